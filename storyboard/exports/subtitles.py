"""SubRip and WebVTT from the cut's dialogue cues, with speaker names (pure)."""

from __future__ import annotations

from fractions import Fraction

from storyboard.stages.timeline import Cue


def _stamp(t: Fraction, sep: str) -> str:
    ms = int(t * 1000 + Fraction(1, 2))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clean(text: str) -> str:
    return " ".join(text.replace("-->", "->").split())


def srt(cues: list[Cue]) -> str:
    blocks = []
    for n, c in enumerate(cues, start=1):
        blocks.append(f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_clean(c.speaker).upper()}: {_clean(c.text)}\n")
    return "\n".join(blocks)


def vtt(cues: list[Cue]) -> str:
    out = ["WEBVTT", ""]
    for c in cues:
        out += [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}",
                f"<v {_clean(c.speaker).replace('>', '')}>{_clean(c.text).replace('<', '&lt;')}", ""]
    return "\n".join(out)
