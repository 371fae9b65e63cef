"""The cut in integer frames: shot spans, transitions, dialogue timing, subtitles. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from storyboard.model.storyboard import OVERLAPPING

LEAD = 0.3  # silence before the first line of a shot
GAP = 0.3  # between lines
WORDS_PER_SECOND = 2.8  # brisk film dialogue; above this a line will not fit the shot
OVERRUN = 0.05  # seconds a line may run past the shot's end before it counts as cut: below what a warning shows
MIN_CUE = 0.5  # a subtitle shorter than this cannot be read: a later cue waits instead


def speech_seconds(text: str) -> float:
    """How long a line takes to say, estimated from its words (pauses included). The one estimate
    shared by the checks, the plan, the animatic and the cut: lines are placed with it, by
    `place_lines`, everywhere."""
    words = len(re.findall(r"[\w']+", text))
    return 0.4 + words / WORDS_PER_SECOND


def dialogue_fit(texts: list[str], shot_seconds: float) -> tuple[float, list[int]]:
    """When the last of these lines ends, placed in a shot as the cut places them, and which run
    past the shot's end (beyond OVERRUN)."""
    spans, overrun = place_lines([speech_seconds(t) for t in texts], shot_seconds)
    return (spans[-1][1] if spans else 0.0), overrun


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
        if t + n > shot_seconds + OVERRUN:
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
    """One shot in the cut: where its picture starts, how many frames it shows, and how it meets
    its neighbours. Every overlap and fade is counted here once; the join, the mix and the
    editor exports read them."""

    shot_id: str
    index: int
    start: int  # frame in the cut where the shot begins (inside the incoming transition)
    length: int  # frames of the shot used
    transition_out: str  # cut | dissolve | fade | fade-to-black | wipe-left
    out_frames: int  # frames of the transition into the next shot (0 for a cut)
    head: int = 0  # first frames shown under the previous shot's dissolve or wipe
    tail: int = 0  # last frames shown under this shot's dissolve or wipe into the next
    fade_in: int = 0  # frames fading up from black (the second half of a `fade` before it)
    fade_out: int = 0  # frames fading to black (the first half of a `fade`, or a fade-to-black)

    @property
    def overlaps_next(self) -> bool:
        return self.transition_out in OVERLAPPING


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
    prev: Span | None = None
    for i, (sid, secs, kind, tsecs) in enumerate(shots):
        n = frames(secs, fps)
        is_last = i == len(shots) - 1
        # into nothing, only fade-to-black has a meaning: it ends the film
        tf = 0 if kind == "cut" or (is_last and kind != "fade-to-black") else frames(tsecs, fps)
        kind = kind if tf else "cut"
        head = prev.out_frames if prev is not None and prev.overlaps_next else 0
        fade_in = prev.out_frames // 2 if prev is not None and prev.transition_out == "fade" else 0
        tail = tf if kind in OVERLAPPING else 0
        fade_out = {"fade": tf - tf // 2, "fade-to-black": tf}.get(kind, 0)
        span = Span(sid, i, pos, n, kind, tf, head=head, tail=tail, fade_in=fade_in, fade_out=fade_out)
        spans.append(span)
        pos += n - tail
        prev = span
    cues: list[Cue] = []
    for sp in spans:
        for line in (dialogue or {}).get(sp.shot_id, []):
            start = Fraction(sp.start, fps) + Fraction(line["start"]).limit_denominator(1000)
            end = Fraction(sp.start, fps) + Fraction(min(line["end"], sp.length / fps)).limit_denominator(1000)
            if end > start:
                cues.append(Cue(start, end, line["name"], line["text"]))
    total = Fraction(spans[-1].start + spans[-1].length, fps) if spans else Fraction(0)
    return Timeline(fps, width, height, spans, apart(sorted(cues, key=lambda c: c.start), total))


def apart(cues: list[Cue], total: Fraction) -> list[Cue]:
    """Cues one at a time: under a dissolve the next shot's first line can start before the last
    line of the shot before has ended. The earlier cue then ends where the later starts, unless
    that leaves it too short to read; then the later one waits for it. Nothing runs past `total`."""
    out: list[Cue] = []
    least = Fraction(MIN_CUE).limit_denominator(1000)
    for cue in cues:
        if out and cue.start < out[-1].end:
            prev = out[-1]
            if cue.start - prev.start >= min(least, prev.end - prev.start):
                out[-1] = replace(prev, end=cue.start)
            else:
                length = max(cue.end - cue.start, least)
                cue = replace(cue, start=prev.end, end=min(prev.end + length, total))
                if cue.end <= cue.start:
                    continue
        out.append(cue)
    return out
