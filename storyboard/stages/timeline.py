"""The cut in integer frames: shot spans, transitions, dialogue timing, subtitles. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from storyboard.model.storyboard import OVERLAPPING

LEAD = 0.3  # least silence before the first line of a shot
GAP = 0.3  # least silence between lines
TAIL = 0.4  # silence left after the last line when the shot has room
TIGHT_LEAD, TIGHT_GAP = 0.1, 0.12  # the gaps when the lines barely fit
MAX_LEAD, MAX_GAP = 2.0, 3.0  # the most a spread adds before the first line and between two lines
WORDS_PER_SECOND = 2.8  # brisk film dialogue; above this a line will not fit the shot
OVERRUN = 0.05  # seconds a line may run past the shot's end before it counts as cut: below what a warning shows
MIN_CUE = 0.5  # a subtitle shorter than this cannot be read: a later cue waits instead


def speech_seconds(text: str) -> float:
    """How long a line takes to say, estimated from its words (pauses included). The one estimate
    shared by the checks, the plan and the cut; the animatic's voices are fitted to it."""
    words = len(re.findall(r"[\w']+", text))
    return 0.4 + words / WORDS_PER_SECOND


@dataclass(frozen=True)
class Beat:
    """One line for placing: how long it takes to say, and what the storyboard fixed about its timing."""

    seconds: float
    at: float | None = None  # starts this many seconds into the shot (`at:`)
    pause: float | None = None  # this much silence before it (`pause:`)


def beat(text: str, at: float | None = None, pause: float | None = None) -> Beat:
    return Beat(speech_seconds(text), at, pause)


def place_lines(lines: list[Beat] | list[float], shot_seconds: float) -> tuple[list[tuple[float, float]], list[int]]:
    """Start and end of each line in a shot, and which lines overrun it.

    A line with `at` starts there; the lines after it follow it. Between fixed points the lines are
    spread with natural gaps: the room the shot leaves goes to the silences (a little before the
    first line, more between lines, the rest after the last), a written `pause` is kept as written.
    When the lines barely fit, the gaps shrink before anything overruns."""
    beats = [b if isinstance(b, Beat) else Beat(float(b)) for b in lines]
    groups: list[list[int]] = []
    for i, b in enumerate(beats):
        if not groups or b.at is not None:
            groups.append([i])
        else:
            groups[-1].append(i)
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * len(beats)
    for gi, group in enumerate(groups):
        first = beats[group[0]]
        origin = first.at if first.at is not None else 0.0
        limit = beats[groups[gi + 1][0]].at - GAP if gi + 1 < len(groups) else shot_seconds - TAIL  # type: ignore[operator]
        lead_fixed = first.at is not None or first.pause is not None
        lead = 0.0 if first.at is not None else (first.pause if first.pause is not None else LEAD)
        gaps = [beats[i].pause if beats[i].pause is not None else GAP for i in group[1:]]
        flexible = [beats[i].pause is None for i in group[1:]]
        slack = limit - origin - lead - sum(beats[i].seconds for i in group) - sum(gaps)
        if slack >= 0:
            weight = (0 if lead_fixed else 0.6) + sum(flexible) + 1.0  # the 1.0: the silence after
            unit = slack / weight
            if not lead_fixed:
                lead += min(MAX_LEAD, 0.6 * unit)
            gaps = [g + min(MAX_GAP, unit) if flex else g for g, flex in zip(gaps, flexible)]
        else:
            if not lead_fixed:
                lead = TIGHT_LEAD
            gaps = [TIGHT_GAP if flex else g for g, flex in zip(gaps, flexible)]
        t = origin + lead
        for k, i in enumerate(group):
            if k:
                t += gaps[k - 1]
            spans[i] = (round(t, 3), round(t + beats[i].seconds, 3))
            t += beats[i].seconds
    overrun = [i for i, (_, end) in enumerate(spans) if end > shot_seconds + OVERRUN]
    return spans, overrun


def needed_seconds(lines: list[Beat]) -> float:
    """The shortest shot that holds every line (the gaps as tight as placing makes them)."""
    if not lines:
        return 0.0
    spans, _ = place_lines(lines, 0.0)
    return max(end for _, end in spans)


def dialogue_fit(lines: list[Beat] | list[str], shot_seconds: float) -> tuple[float, list[int]]:
    """What the lines need at least (placed tight), and which of them run past the end of a shot of
    `shot_seconds` as the cut places them: the checks warn, and the render cuts, by this one rule."""
    beats = [b if isinstance(b, Beat) else beat(b) for b in lines]
    return needed_seconds(beats), place_lines(beats, shot_seconds)[1]


def estimated_lines(dialogue: list[dict], shot_seconds: float) -> list[dict]:
    """Dialogue timing for clips that do not report it: estimated from the words (and `at`/`pause`)."""
    spans, _ = place_lines([beat(d["text"], d.get("at"), d.get("pause")) for d in dialogue], shot_seconds)
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


def rows_of(sb) -> list[tuple[str, float, str, float]]:
    """A storyboard's shots as build() takes them: (id, seconds, transition kind, transition seconds)."""
    return [(shot.id, shot.duration, sb.transition_after(i).kind, sb.transition_after(i).seconds)
            for i, shot in enumerate(sb.shots)]


def timecode(frame: int, fps: int) -> str:
    """HH:MM:SS:FF at a whole frame rate."""
    s, f = divmod(frame, fps)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"
