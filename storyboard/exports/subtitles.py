"""SubRip and WebVTT from the cut's dialogue cues, with speaker names and the (V.O.) or (O.S.) the
burnt-in line shows; no line carries markup a player would obey (pure)."""

from __future__ import annotations

import re
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


# what SubRip players obey inside a line: HTML-like tags (<b>, <font ...>, and anything else that
# looks like one, <script> included) and ASS override blocks ({\an8}); a lone < or > is text
_SRT_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|\{\\[^{}]*\}")


def _srt_text(text: str) -> str:
    """SubRip has no escapes: markup a player would obey is taken out, the words stay."""
    return _clean(_SRT_MARKUP.sub("", text))


def _vtt_text(text: str) -> str:
    """WebVTT cue text: & < > as character references (the format's escapes)."""
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _who(c: Cue) -> str:
    return f"{c.speaker} ({c.mark})" if c.mark else c.speaker


def srt(cues: list[Cue]) -> str:
    blocks = []
    for n, c in enumerate(cues, start=1):
        blocks.append(f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n"
                      f"{_srt_text(_who(c)).upper()}: {_srt_text(c.text)}\n")
    return "\n".join(blocks)


def vtt(cues: list[Cue]) -> str:
    out = ["WEBVTT", ""]
    for c in cues:  # a voice's name ends at its '>': none inside it, even escaped
        who = _vtt_text(_who(c).replace("<", "").replace(">", ""))
        out += [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}", f"<v {who}>{_vtt_text(c.text)}", ""]
    return "\n".join(out)
