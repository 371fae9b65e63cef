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
# Chinese and Japanese are written without spaces: their time is counted in characters. Four a second
# (punctuation counted, as a full-width character) is Netflix's reading speed for Japanese subtitles
# (Japanese Timed Text Style Guide, partnerhelp.netflixstudios.com, article 215767517) and the limit
# Arista Szu-Yu Kuo reports for Chinese subtitles; Mandarin is spoken at about four to five syllables,
# that is characters, a second. One rate for both: a line is on screen long enough to read.
CJK_CHARS_PER_SECOND = 4.0
_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")  # kana, han, CJK punctuation
OVERRUN = 0.05  # seconds a line may run past the shot's end before it counts as cut: below what a warning shows
MIN_CUE = 0.5  # a subtitle shorter than this cannot be read: a later cue waits instead


def size_words(texts: list[str]) -> str:
    """How much there is to say, as a person counts it: "12 words", "22 characters" for CJK."""
    cjk = sum(len(_CJK.findall(t)) for t in texts)
    words = sum(len(re.findall(r"[\w']+", _CJK.sub(" ", t))) for t in texts)
    parts = ([f"{words} word{'s' * (words != 1)}"] if words or not cjk else []) + \
        ([f"{cjk} Chinese or Japanese character{'s' * (cjk != 1)}"] if cjk else [])
    return " and ".join(parts)


def speech_seconds(text: str) -> float:
    """How long a line takes to say, estimated from its words (pauses included), and from its
    characters in Chinese and Japanese. The one estimate shared by the checks, the plan and the cut;
    the animatic's voices are fitted to it."""
    cjk = len(_CJK.findall(text))
    words = len(re.findall(r"[\w']+", _CJK.sub(" ", text)))
    return 0.4 + words / WORDS_PER_SECOND + cjk / CJK_CHARS_PER_SECOND


@dataclass(frozen=True)
class Beat:
    """One line for placing: how long it takes to say, and what the storyboard fixed about its timing."""

    seconds: float
    at: float | None = None  # starts this many seconds into the shot (`at:`)
    pause: float | None = None  # this much silence before it (`pause:`)


def beat(text: str, at: float | None = None, pause: float | None = None) -> Beat:
    return Beat(speech_seconds(text), at, pause)


def place_lines(lines: list[Beat] | list[float], shot_seconds: float,
                overlap: float = 0.0) -> tuple[list[tuple[float, float]], list[int]]:
    """Start and end of each line in a shot, and which lines overrun it.

    A line with `at` starts there; the lines after it follow it. Between fixed points the lines are
    spread with natural gaps: the room the shot leaves goes to the silences (a little before the
    first line, more between lines, the rest after the last), a written `pause` is kept as written.
    When the lines barely fit, the gaps shrink before anything overruns.

    `overlap` is the shot's last seconds that lie under the next shot (its dissolve or wipe out,
    `overlap_after`): the lines end before it begins, so two shots' voices and subtitles never
    overlap, and a line that cannot is an overrun."""
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
        limit = beats[groups[gi + 1][0]].at - GAP if gi + 1 < len(groups) else shot_seconds - max(TAIL, overlap)  # type: ignore[operator]
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
    overrun = [i for i, (_, end) in enumerate(spans) if end > shot_seconds - overlap + OVERRUN]
    return spans, overrun


def needed_seconds(lines: list[Beat], overlap: float = 0.0) -> float:
    """The shortest shot that holds every line (the gaps as tight as placing makes them), and then
    its dissolve or wipe out (`overlap`)."""
    if not lines:
        return 0.0
    spans, _ = place_lines(lines, 0.0)
    return max(end for _, end in spans) + overlap


def dialogue_fit(lines: list[Beat] | list[str], shot_seconds: float, overlap: float = 0.0) -> tuple[float, list[int]]:
    """What the lines need at least (placed tight, and before the dissolve out), and which of them run
    past what a shot of `shot_seconds` holds as the cut places them: the checks warn, and the render
    cuts, by this one rule."""
    beats = [b if isinstance(b, Beat) else beat(b) for b in lines]
    return needed_seconds(beats, overlap), place_lines(beats, shot_seconds, overlap)[1]


def estimated_lines(dialogue: list[dict], shot_seconds: float, overlap: float = 0.0) -> list[dict]:
    """Dialogue timing for clips that do not report it: estimated from the words (and `at`/`pause`)."""
    spans, _ = place_lines([beat(d["text"], d.get("at"), d.get("pause")) for d in dialogue], shot_seconds, overlap)
    return [{**d, "start": s, "end": min(e, shot_seconds)} for d, (s, e) in zip(dialogue, spans) if s < shot_seconds]


def overlap_after(sb, index: int) -> float:
    """Seconds of shot `index` that lie under the next shot: its dissolve or wipe out; 0 for a cut, a
    fade, and the last shot (into nothing a dissolve is a cut, as `build` lays it)."""
    t = sb.transition_after(index)
    return t.seconds if t.kind in OVERLAPPING and index < len(sb.shots) - 1 else 0.0


def shot_lines(sb, index: int) -> list[dict]:
    """Shot `index`'s lines timed by the words, as the cut places them when its clip reports none."""
    shot = sb.shots[index]
    return estimated_lines([{"speaker": d.speaker, "name": sb.character_name(d.speaker), "text": d.text,
                             "at": d.at, "pause": d.pause} for d in shot.dialogue], shot.duration,
                           overlap_after(sb, index))


def frames(seconds: float, fps: int | Fraction) -> int:
    return int(Fraction(seconds).limit_denominator(1000) * Fraction(fps) + Fraction(1, 2))


@dataclass(frozen=True)
class Cue:
    start: Fraction  # seconds in the cut
    end: Fraction
    speaker: str
    text: str
    until: Fraction | None = None  # where its shot gives way to the next: no later than this
    mark: str = ""  # "V.O." or "O.S.", as the burnt-in line says it


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
    each line's time in its shot moved to where the shot sits in the cut, and end by the time the
    next shot takes over (where a dissolve out begins)."""
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
    least = Fraction(MIN_CUE).limit_denominator(1000)
    for sp in spans:
        handover = Fraction(sp.start + sp.length - sp.tail, fps)
        for line in (dialogue or {}).get(sp.shot_id, []):
            start = Fraction(sp.start, fps) + Fraction(line["start"]).limit_denominator(1000)
            end = Fraction(sp.start, fps) + Fraction(min(line["end"], sp.length / fps)).limit_denominator(1000)
            # a line that starts too late to be read before the handover is heard under the dissolve: shown there
            until = handover if start + least <= handover else Fraction(sp.start + sp.length, fps)
            end = min(end, until)
            if end > start:
                cues.append(Cue(start, end, line["name"], line["text"], until, line.get("mark") or ""))
    total = Fraction(spans[-1].start + spans[-1].length, fps) if spans else Fraction(0)
    return Timeline(fps, width, height, spans, apart(sorted(cues, key=lambda c: c.start), total))


def apart(cues: list[Cue], total: Fraction) -> list[Cue]:
    """Cues one at a time: two lines can start together (dual dialogue, an `at:`), or one line run
    on into the next (a shot too short for its words). The earlier cue then ends where the later
    starts, unless that leaves it too short to read; then the later one waits for it, but not past
    its own shot (`until`) or `total`."""
    out: list[Cue] = []
    least = Fraction(MIN_CUE).limit_denominator(1000)
    for cue in cues:
        if out and cue.start < out[-1].end:
            prev = out[-1]
            if cue.start - prev.start >= min(least, prev.end - prev.start):
                out[-1] = replace(prev, end=cue.start)
            else:
                length = max(cue.end - cue.start, least)
                cue = replace(cue, start=prev.end, end=min(prev.end + length, total, cue.until or total))
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
