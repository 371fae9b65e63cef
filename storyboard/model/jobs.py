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


@dataclass(frozen=True)
class RenderJob:
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


@dataclass(frozen=True)
class MissingTake:
    """A shot pins a take its current request does not have."""

    shot: str
    take: int
    existing: list[int]


@dataclass(frozen=True)
class Plan:
    backend: str
    jobs: list[RenderJob] = field(default_factory=list)  # one per shot: the take the cut uses
    extra: list[RenderJob] = field(default_factory=list)  # other takes this run makes (--takes N, pinned --new-take)
    missing_takes: list[MissingTake] = field(default_factory=list)

    @property
    def to_render(self) -> list[RenderJob]:
        return [j for j in self.jobs + self.extra if j.selected and not j.cached and j.twin_of is None]

    @property
    def total(self) -> float:
        return round(sum(j.cost for j in self.to_render), 4)

    def job(self, shot_id: str) -> RenderJob:
        """The job of a shot: the take the cut uses."""
        return next(j for j in self.jobs if j.shot.id == shot_id)


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

    @property
    def meta(self) -> dict:
        return self.entry.meta if self.entry else {}


@dataclass(frozen=True)
class Prepared:
    """A storyboard checked and compiled for one backend: what plan and render start from."""

    loaded: Loaded
    caps: BackendCaps
    contexts: list[ShotContext]
    shots: list[CompiledShot]
    warnings: list[Diagnostic]


@dataclass
class Rendered:
    """What render_shots did: an outcome per shot (in film order), the money the provider took in this
    run (each outcome says its own, and what earlier runs paid), and the stop, if any."""

    plan: Plan
    outcomes: dict[str, Outcome]  # the take the cut uses, per shot
    spent: float
    stop: Stop | None = None  # budget, quota, retries or an ambiguous submission ended the run early
    extra: dict[str, Outcome] = field(default_factory=dict)  # other takes made (--takes N), by job name

    @property
    def complete(self) -> bool:
        return (all(o.entry is not None for o in self.outcomes.values())
                and not any(o.status in ("failed", "blocked") for o in self.extra.values()))
