"""What the pipeline hands from step to step: the prepared storyboard, the plan's jobs, the cached
entries and the render's outcomes and progress events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from storyboard.errors import Diagnostic, Stop, StoryboardError
from storyboard.model.caps import BackendCaps
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.model.loaded import Loaded


KeyExtra = Callable[[CompiledShot, ShotContext], dict]  # a backend's own cache-key fields


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _counts(statuses: list[str]) -> str:
    order = ["rendered", "cached", "failed", "blocked", "skipped"]
    seen = {s: statuses.count(s) for s in order + sorted(set(statuses) - set(order))}
    return ", ".join(f"{n} {s}" for s, n in seen.items() if n) or "no shots"


@dataclass(frozen=True)
class GroupRequest:
    """Shots made by one multi-shot request (issue 25): one key, one take count, one job and one price.
    Each shot's own job names the group; the first shot's renders it, the others are served their part."""

    key: str  # the group's take key: what is locked, journaled, paid for and cached (the whole clip)
    base_key: str  # the same without the take: what the group's takes are counted under
    take: int
    members: tuple[CompiledShot, ...]
    asked: tuple[float, ...]  # each shot's written length
    sent: tuple[float, ...]  # each shot's length in the request (rounded to what the model allows)
    position: int  # this shot's place in the group
    contexts: tuple[ShotContext, ...] = ()  # each shot's continuity, for backends that draw it (the animatic)

    @property
    def name(self) -> str:
        return self.members[0].id

    @property
    def shots(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.members)

    @property
    def leader(self) -> bool:
        """The first shot's job renders the group's request."""
        return self.position == 0

    @property
    def seconds(self) -> float:
        return sum(self.sent)


@dataclass(frozen=True)
class RenderJob:
    """One clip to make (or find in the cache): a shot's request, its cache key, take and price."""

    shot: CompiledShot
    key: str  # everything that shapes the clip, the take included
    base_key: str  # the same without the take: what takes are counted under
    take: int
    price_per_second: float
    cost: float  # dollars if rendered now; 0 when cached
    cached: bool
    context: ShotContext  # the shot's continuity: who is on screen, wearing what, where
    selected: bool = True  # false: not asked for by --shot (still planned, for its key)
    pinned: bool = False  # the storyboard's `take:` chose this take
    twin_of: str | None = None  # an earlier shot with the identical request: its one job serves both
    group: GroupRequest | None = None  # made with the shots around it by one multi-shot request

    @property
    def follower(self) -> bool:
        """A shot of a group that is not its first: its group's one job (the first shot's) makes it."""
        return self.group is not None and not self.group.leader

    def __repr__(self) -> str:
        state = "cached" if self.cached else (f"${self.cost:.2f}" if self.selected else "not selected")
        twin = f", as {self.twin_of!r}" if self.twin_of else ""
        return f"<RenderJob {self.shot.id!r} take {self.take} {self.key[:12]}: {state}{twin}>"


@dataclass(frozen=True)
class MissingTake:
    """A shot pins a take its current request does not have."""

    shot: str
    take: int
    existing: list[int]


@dataclass(frozen=True)
class Plan:
    """What a render would do, spending nothing: a job per shot (its key, cache hit and price), the
    other takes asked for, and the pinned takes that do not exist. A notebook shows it as a table."""

    backend: str
    jobs: list[RenderJob] = field(default_factory=list)  # one per shot: the take the cut uses
    extra: list[RenderJob] = field(default_factory=list)  # other takes this run makes (--takes N, pinned --new-take)
    missing_takes: list[MissingTake] = field(default_factory=list)

    @property
    def to_render(self) -> list[RenderJob]:
        return [j for j in self.jobs + self.extra
                if j.selected and not j.cached and j.twin_of is None and not j.follower]

    @property
    def total(self) -> float:
        return round(sum(j.cost for j in self.to_render), 4)

    @property
    def groups(self) -> list[GroupRequest]:
        """The multi-shot requests of the cut's takes, in film order (as their first shot's job has them)."""
        return [j.group for j in self.jobs if j.group is not None and j.group.leader]

    def job(self, shot_id: str) -> RenderJob:
        """The job of a shot: the take the cut uses."""
        return next(j for j in self.jobs if j.shot.id == shot_id)

    def __repr__(self) -> str:
        cached = sum(1 for j in self.jobs if j.cached)
        extra = f" (+{_n(len(self.extra), 'other take')})" if self.extra else ""
        return (f"<Plan on {self.backend}: {_n(len(self.jobs), 'shot')}{extra}, {cached} cached, "
                f"{len(self.to_render)} to render, ${self.total:.2f}>")

    def _repr_html_(self) -> str:
        """A table for notebooks: each shot, its take, key, cache hit and price."""
        from html import escape
        rows = []
        for j in self.jobs + self.extra:
            cache = "hit" if j.cached else ("same as " + j.twin_of if j.twin_of else "miss")
            cost = "" if not j.selected else f"${j.cost:.2f}"
            rows.append(f"<tr><td>{escape(j.shot.id)}</td><td>{j.shot.duration:g}s</td><td>{escape(j.shot.model)}</td>"
                        f"<td>{j.take}</td><td><code>{j.key[:12]}</code></td><td>{escape(cache)}</td>"
                        f"<td>{j.price_per_second:.2f}</td><td style='text-align:right'>{cost}</td></tr>")
        missing = "".join(f"<p>shot {escape(m.shot)} pins take {m.take}, which does not exist "
                          f"(there are {', '.join(map(str, m.existing)) or 'none'})</p>" for m in self.missing_takes)
        return (f"<div><b>plan on {escape(self.backend)}</b>: {_n(len(self.jobs), 'shot')}, "
                f"{len(self.to_render)} to render, total <b>${self.total:.2f}</b>"
                "<table><thead><tr><th>shot</th><th>length</th><th>model</th><th>take</th><th>key</th><th>cache</th>"
                "<th>$/s</th><th>cost</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                + missing + "</div>")


@dataclass(frozen=True)
class Entry:
    """A verified clip in the cache, with what the backend said about it."""

    key: str
    folder: Path
    meta: dict
    # the cache it came from when its files are fetched on first use (object storage: `folder` is
    # the local read-through copy); None for a local folder, whose files are simply there
    source: Any = field(default=None, compare=False, repr=False)

    @property
    def clip(self) -> Path:
        return self.source.fetch(self, "clip.mp4") if self.source is not None else self.folder / "clip.mp4"

    @property
    def last_frame(self) -> Path:
        return self.source.fetch(self, "last.png") if self.source is not None else self.folder / "last.png"

    @property
    def sealed(self) -> bool:
        """Does the entry record its clip's size and digest (entries from before that do not)?"""
        return bool(self.meta.get("clip_sha256"))


@dataclass
class Event:
    """Progress of one shot, for whoever shows it."""

    shot: str
    state: str  # queued | waiting | cached | <backend states> | done | failed | blocked | skipped
    percent: float | None = None
    message: str = ""
    elapsed: float = 0.0
    spent: float = 0.0  # what the provider took in this run so far


@dataclass
class Outcome:
    """What became of one job: rendered, cached, failed, blocked or skipped, with its cache entry
    (the clip), why not, and the money it took."""

    job: RenderJob
    status: str  # cached | rendered | failed | blocked | skipped
    entry: Entry | None = None
    reason: str = ""
    error: StoryboardError | None = None
    warnings: list[str] = field(default_factory=list)
    spent: float = 0.0  # what the provider took for this shot in this run
    spent_earlier: float = 0.0  # what its clip (or the jobs it re-attached to) cost in earlier runs
    unconfirmed: float = 0.0  # held for a submission whose outcome is unknown: maybe taken
    same_as: str | None = None  # the earlier shot with the identical request whose job served this one
    chosen_by: str = ""  # "identity": `--pick identity` chose this take by its identity score

    @property
    def meta(self) -> dict:
        return self.entry.meta if self.entry else {}

    def __repr__(self) -> str:
        why = f": {self.reason[:80]}" if self.reason else ""
        spent = f", ${self.spent:.2f} spent" if self.spent else ""
        return f"<Outcome {self.job.shot.id!r} {self.status}{spent}{why}>"


@dataclass(frozen=True)
class Prepared:
    """A storyboard checked and compiled for one backend: what plan and render start from."""

    loaded: Loaded
    caps: BackendCaps
    contexts: list[ShotContext]
    shots: list[CompiledShot]
    warnings: list[Diagnostic]

    def __repr__(self) -> str:
        return (f"<Prepared {self.loaded.path.name} for {self.caps.name}: {_n(len(self.shots), 'shot')}, "
                f"{_n(len(self.warnings), 'warning')}>")


@dataclass
class Rendered:
    """What render_shots did: an outcome per shot (in film order), the money the provider took in this
    run (each outcome says its own, and what earlier runs paid), and the stop, if any."""

    plan: Plan
    outcomes: dict[str, Outcome]  # the take the cut uses, per shot
    spent: float
    stop: Stop | None = None  # budget, quota, retries or an ambiguous submission ended the run early
    extra: dict[str, Outcome] = field(default_factory=dict)  # other takes made (--takes N), by job name

    def __repr__(self) -> str:
        stop = f"; stopped: {str(self.stop)[:80]}" if self.stop is not None else ""
        extra = f" (+{_n(len(self.extra), 'other take')})" if self.extra else ""
        return (f"<Rendered {_n(len(self.outcomes), 'shot')}{extra}: {_counts([o.status for o in self.outcomes.values()])}; "
                f"${self.spent:.2f} spent{stop}>")

    @property
    def complete(self) -> bool:
        return (all(o.entry is not None for o in self.outcomes.values())
                and not any(o.status in ("failed", "blocked") for o in self.extra.values()))
