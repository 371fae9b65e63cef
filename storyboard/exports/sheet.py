"""What the review page, the boards and the shot list say about each shot, gathered once (pure but
for reading the cache): the storyboard's words, the continuity state, the cut's timing, the takes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from storyboard.draw.colours import character_colour
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.model.jobs import Entry, Plan, Outcome, Prepared
from storyboard.stages.continuity import fold
from storyboard.stages.timeline import build, rows_of, timecode
from storyboard.identity import Judge
from storyboard.model.identity import BAD, ClipScore
from storyboard.store.cache import Cache
from storyboard.takes import Take, list_takes


# what a shot's state reads as, on the page and in the shot list: the state of its clip, not of this run
# (a clip made last run and found in the cache now is done either way, and the pages need not change)
STATUS_WORDS = {"rendered": "done", "cached": "done", "kept": "kept", "blocked": "blocked", "failed": "failed",
                "skipped": "not rendered"}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    wardrobe: str
    props: str
    colour: str
    heard_only: bool = False  # speaks off screen or in voice-over


@dataclass(frozen=True)
class Line:
    speaker: str  # the name
    text: str
    delivery: str
    mark: str  # "V.O.", "O.S." or ""


@dataclass(frozen=True)
class ShotSheet:
    number: int
    id: str
    scene: int
    location_id: str
    location: str
    time: str
    weather: str
    framing: str
    angle: str
    move: str
    lens: str
    duration: float
    start_frame: int
    frames: int
    tc_in: str
    tc_out: str
    people: list[Person]
    action: str
    dialogue: list[Line]
    sound: str
    transition: str
    continuity: str  # "cut" or "continuous from <id>"
    status: str  # done | kept | blocked | failed | not rendered
    reason: str
    model: str  # as the provider reported it
    seconds_billed: float
    cost: float  # what the take in the cut cost when it was made
    warnings: list[str]
    entry: Entry | None  # the take the cut uses
    take: int | None
    pinned: bool
    takes: list[Take]
    prompt: str
    compiled: "CompiledShot"
    identity: "ClipScore | None" = None  # the take in the cut, against the references (None: not scored)
    take_scores: dict = field(default_factory=dict)  # take number -> ClipScore | None
    chosen_by: str = ""  # "identity": --pick identity chose the take in the cut
    review: str = "todo"  # the review room's status: todo | approved | retake
    notes: tuple = ()  # the review room's notes (storyboard.notes.Note), oldest first

    @property
    def drift(self) -> list:
        """The characters of the take in the cut whose verdict is drift or missing."""
        return [c for c in (self.identity.characters if self.identity else []) if c.verdict in BAD]

    @property
    def clip(self) -> Path | None:
        return self.entry.clip if self.entry else None

    @property
    def clip_key(self) -> str:
        return self.entry.key if self.entry else ""

    @property
    def review_text(self) -> str:
        """The review status and notes as one line of text (boards, shot list): "retake · Dana: too dark"."""
        said = [self.review] if self.review != "todo" else []
        return " · ".join(said + [f"{n.author}: {n.text}" if n.author else n.text for n in self.notes])

    @property
    def camera(self) -> str:
        return " · ".join(x for x in (self.framing, self.angle, self.move, self.lens) if x)

    @property
    def place(self) -> str:
        when = ", ".join(x for x in (self.time, self.weather) if x)
        return f"{self.location} ({when})" if when and self.location else (self.location or when)

    @property
    def dialogue_text(self) -> str:
        return "\n".join(f"{ln.speaker.upper()}{f' ({ln.mark})' if ln.mark else ''}"
                         f"{f' ({ln.delivery})' if ln.delivery else ''}: {ln.text}" for ln in self.dialogue)


@dataclass(frozen=True)
class Sheet:
    title: str
    backend: str
    fps: int
    width: int
    height: int
    duration: float  # seconds of the cut
    spent: float  # what every take of these shots cost
    spent_now: float | None  # what this run spent, when there was one
    made: float = field(default_factory=time.time)
    shots: list[ShotSheet] = field(default_factory=list)
    judge: "Judge | None" = None  # the identity check's view of the references (stills for the page)


# Sheet fields left out of the digests of what the page and the boards show: when they were made (an
# unchanged page keeps its date) and the judge (what it found is in the scores, its stills named by content)
NOT_DIGESTED = frozenset({"made", "judge"})


def _transition(written: str, span, last: bool) -> str:
    """Into the next shot, as the cut makes it: the last shot ends the film (a fade to black, or a cut)."""
    if last:
        return f"{written}, ending the film" if span.out_frames else "the end of the film"
    return written


def clock(seconds: float) -> str:
    """A running time: 7.5s, or 3:07.5 from a minute."""
    m, sec = divmod(seconds, 60)
    return f"{int(m)}:{sec:04.1f}" if m else f"{sec:.1f}s"


def build_sheet(prep: "Prepared", plan: Plan, outcomes: dict[str, Outcome], cache: Cache,
                spent_now: float | None = None) -> Sheet:
    from storyboard import notes
    sb = prep.loaded.storyboard
    reviews = notes.load(prep.loaded.path)
    judge = Judge(prep.loaded.root, sb, cache)
    fps = sb.defaults.fps
    rows = rows_of(sb)
    tl = build(rows, fps, sb.defaults.width, sb.defaults.height)
    shots: list[ShotSheet] = []
    scene, where = 0, None
    requests = list(dict.fromkeys(plan.job(s.id).base_key for s in sb.shots))  # twins share one
    takes_of = dict(zip(requests, cache.each(lambda k: list_takes(cache, k), requests)))
    for ctx, span, cshot in zip(fold(sb), tl.spans, prep.shots):
        shot = ctx.shot
        o = outcomes[shot.id]
        loc = ctx.location
        if (loc.id if loc else None, loc.time if loc else None) != where:
            scene += 1
            where = (loc.id if loc else None, loc.time if loc else None)
        people = [Person(c.id, c.name, c.wardrobe, c.props, character_colour(c.id)) for c in ctx.on_screen]
        people += [Person(c.id, c.name, c.wardrobe, c.props, character_colour(c.id), heard_only=True) for c in ctx.heard]
        meta = o.meta
        takes = takes_of[plan.job(shot.id).base_key]
        take_scores = {t.number: judge.score(t.entry, ctx, shot.id, t.number) for t in takes if t.entry is not None}
        score = None
        if o.entry is not None:  # the take in the cut (a kept clip of an earlier version is not among the takes)
            t_in = next((t for t in takes if t.key == o.entry.key), None)
            score = take_scores.get(t_in.number) if t_in else judge.score(o.entry, ctx, shot.id, o.job.take)
        shots.append(ShotSheet(
            number=ctx.index + 1, id=shot.id, scene=scene, location_id=loc.id if loc else "",
            location=loc.name if loc else "", time=loc.time if loc else "", weather=loc.weather if loc else "",
            framing=shot.camera.framing, angle=shot.camera.angle, move=shot.camera.move, lens=shot.camera.lens,
            duration=shot.duration, start_frame=span.start, frames=span.length,
            tc_in=timecode(span.start, fps), tc_out=timecode(span.start + span.length, fps), people=people,
            action=shot.action.strip(),
            dialogue=[Line(sb.character_name(d.speaker), d.text, d.delivery,
                           "V.O." if d.voice_over else ("O.S." if d.off_screen else "")) for d in shot.dialogue],
            sound=shot.sound.strip(), transition=_transition(str(sb.transition_after(ctx.index)), span,
                                                              ctx.index == len(sb.shots) - 1),
            continuity=f"continuous from {ctx.previous}" if ctx.previous else "cut",
            status=STATUS_WORDS.get(o.status, o.status), reason=o.reason,
            model=meta.get("model_reported") or "", seconds_billed=float(meta.get("seconds_billed") or 0.0),
            cost=float(meta.get("cost") or 0.0),
            warnings=list(dict.fromkeys([*cshot.warnings, *(o.warnings or meta.get("warnings", []))])),
            entry=o.entry,
            take=o.job.take if o.entry else None, pinned=o.job.pinned, takes=takes,
            prompt=cshot.prompt, compiled=cshot, identity=score, take_scores=take_scores, chosen_by=o.chosen_by,
            review=reviews.of(shot.id).status, notes=reviews.of(shot.id).notes))
    spent = sum(t.cost for s in shots for t in s.takes)
    spent += sum(s.cost for s in shots if s.status == "kept" and s.clip_key not in {t.key for t in s.takes})
    return Sheet(title=sb.title or prep.loaded.path.stem, backend=plan.backend, fps=fps, width=sb.defaults.width,
                 height=sb.defaults.height, duration=float(tl.duration), spent=round(spent, 4),
                 spent_now=spent_now, shots=shots, judge=judge)


# -- pictures: key-frame stills of clips, and drawn panels for shots without one ------------------

BIG, SMALL = 640, 384  # widths: boards print the big still, the page shows the small ones
AT = (0.0, 0.5, 1.0)  # first, middle and last frame (the key frame at or before each)


def clip_stills(entry: Entry) -> tuple[dict[int, list[Path]], float]:
    """({width: stills}, seconds) of a cached clip: the first, middle and last key frames small (for
    the page), the middle one big (for the boards); made once and kept beside the clip in the cache (an
    entry never changes, so neither do its stills), with how long its picture runs."""
    from storyboard.store.files import atomic_write_bytes
    from storyboard.media.stills import key_stills
    paths = {SMALL: [entry.folder / f"still-{SMALL}-{i}.jpg" for i in range(len(AT))],
             BIG: [entry.folder / f"still-{BIG}-1.jpg"]}
    seconds_file = entry.folder / "still-seconds.txt"
    try:
        if all(p.exists() for ps in paths.values() for p in ps):
            return paths, float(seconds_file.read_text())
    except (OSError, ValueError):
        pass
    got = key_stills(entry.clip, AT, (SMALL, BIG))
    for i, pics in enumerate(got.pictures):
        atomic_write_bytes(paths[SMALL][i], jpeg(pics[SMALL]))
    atomic_write_bytes(paths[BIG][0], jpeg(got.pictures[1][BIG]))
    atomic_write_bytes(seconds_file, f"{got.seconds:.4f}\n".encode())
    return paths, got.seconds


def drawn_panel(cshot: "CompiledShot", ctx: "ShotContext", asset, width: int, height: int) -> Image.Image:
    """The animatic's drawn panel of a shot (the opening frame of its clip), marked NOT RENDERED."""
    from PIL import ImageDraw

    from storyboard import animatic
    from storyboard.draw import fonts
    im = animatic.preview(cshot, ctx, asset, width, height)
    d = ImageDraw.Draw(im)
    f = fonts.Type(max(10, height // 14), bold=True)
    label = "NOT RENDERED"
    tw = f.length(label)
    pad = max(4, height // 60)
    x0, y0 = width - tw - 3 * pad, height - f.size - 4 * pad
    d.rectangle((x0, y0, width - pad, height - pad), fill=(200, 40, 40))
    f.draw(d, (x0 + pad, y0 + pad * 0.8), label, fill=(255, 255, 255))
    return im


def panel_name(cshot: "CompiledShot", ctx: "ShotContext") -> str:
    """A file name that changes when what the panel draws changes."""
    from storyboard import animatic
    return f"panel-{animatic.preview_name(cshot, ctx)}.jpg"


def jpeg(im, quality: int = 82) -> bytes:
    import io
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()

