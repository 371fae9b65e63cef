"""The cut in integer frames: shot spans, transitions, dialogue timing, subtitles. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from storyboard.checks import speech_seconds

LEAD = 0.3  # silence before the first line of a shot
GAP = 0.3  # between lines


def place_lines(lengths: list[float], shot_seconds: float) -> tuple[list[tuple[float, float]], list[int]]:
    """Start and end of each line in a shot, one after the other; and which lines overrun the shot."""
    total = sum(lengths) + GAP * max(0, len(lengths) - 1)
    lead, gap = LEAD, GAP
    if total + lead > shot_seconds:  # tighten before giving up
        lead, gap = 0.1, 0.12
    spans, overrun = [], []
    t = lead
    for i, n in enumerate(lengths):
        spans.append((round(t, 3), round(t + n, 3)))
        if t + n > shot_seconds + 1e-6:
            overrun.append(i)
        t += n + gap
    return spans, overrun


def estimated_lines(dialogue: list[dict], shot_seconds: float) -> list[dict]:
    """Dialogue timing for clips that do not report it: estimated from the words."""
    spans, _ = place_lines([speech_seconds(d["text"]) for d in dialogue], shot_seconds)
    return [{**d, "start": s, "end": min(e, shot_seconds)} for d, (s, e) in zip(dialogue, spans) if s < shot_seconds]


def frames(seconds: float, fps: int | Fraction) -> int:
    return int(Fraction(seconds).limit_denominator(1000) * Fraction(fps) + Fraction(1, 2))


@dataclass(frozen=True)
class Cue:
    start: Fraction  # seconds in the cut
    end: Fraction
    speaker: str
    text: str


@dataclass(frozen=True)
class Span:
    """One shot in the cut: where its picture starts and how many frames it shows."""

    shot_id: str
    index: int
    start: int  # frame in the cut where the shot begins (inside the incoming transition)
    length: int  # frames of the shot used
    transition_out: str  # cut | dissolve | fade | fade-to-black | wipe-left
    out_frames: int  # frames of the transition into the next shot (0 for a cut)


@dataclass(frozen=True)
class Timeline:
    fps: int
    width: int
    height: int
    spans: list[Span]
    cues: list[Cue] = field(default_factory=list)

    @property
    def total_frames(self) -> int:
        last = self.spans[-1]
        return last.start + last.length

    @property
    def duration(self) -> Fraction:
        return Fraction(self.total_frames, self.fps)


def build(shots: list[tuple[str, float, str, float]], fps: int, width: int, height: int,
          dialogue: dict[str, list[dict]] | None = None) -> Timeline:
    """Lay the shots end to end in frames. `shots` are (id, seconds, transition kind, transition seconds).

    Dissolves and wipes overlap the next shot by their length; fades and cuts do not. Cues are
    each line's time in its shot moved to where the shot sits in the cut."""
    spans: list[Span] = []
    pos = 0
    for i, (sid, secs, kind, tsecs) in enumerate(shots):
        n = frames(secs, fps)
        is_last = i == len(shots) - 1
        # into nothing, only fade-to-black has a meaning: it ends the film
        tf = 0 if kind == "cut" or (is_last and kind != "fade-to-black") else frames(tsecs, fps)
        spans.append(Span(sid, i, pos, n, kind if tf else "cut", tf))
        pos += n - (tf if kind in ("dissolve", "wipe-left") and not is_last else 0)
    cues: list[Cue] = []
    for sp in spans:
        for line in (dialogue or {}).get(sp.shot_id, []):
            start = Fraction(sp.start, fps) + Fraction(line["start"]).limit_denominator(1000)
            end = Fraction(sp.start, fps) + Fraction(min(line["end"], sp.length / fps)).limit_denominator(1000)
            if end > start:
                cues.append(Cue(start, end, line["name"], line["text"]))
    return Timeline(fps, width, height, spans, cues)
