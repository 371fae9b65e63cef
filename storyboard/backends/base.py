"""The one small interface every backend implements, and the registry that finds them."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from storyboard.model.caps import BackendCaps, ModelCaps
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.model.jobs import RenderJob
from storyboard.store.budget import Purse


Report = Callable[[str, "float | None"], None]  # (state, percent) -> None


@dataclass(frozen=True)
class RenderRequest:
    """What a backend gets for one shot. It writes `workdir/clip.mp4` and says what it did."""

    job: RenderJob
    workdir: Path
    asset: Callable[[str], Path]  # a project path from the compiled shot -> a real file
    input_image: Path | None = None  # the first frame, already fitted to the shot's size
    report: Report = lambda state, pct=None: None
    purse: "Purse | None" = None  # a paid backend holds a job's price before it asks, and spends it when accepted

    @property
    def shot(self):
        return self.job.shot


@dataclass
class RenderResult:
    clip: Path
    model_reported: str
    job_id: str | None = None
    seconds_billed: float = 0.0
    cost: float = 0.0
    dialogue: list[dict] = field(default_factory=list)  # [{speaker, name, text, start, end}] as rendered
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    last_frame: Path | None = None  # the picture a continuous shot after this one starts from, when the
    # backend makes it apart from the clip (the animatic's, without its text); else the clip's last frame


class Backend(ABC):
    """Render one compiled shot to a clip file. Capabilities are data (`caps`), not code."""

    def __init__(self, caps: BackendCaps, cache=None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.caps = caps

    @classmethod
    def key_extra(cls, shot: "CompiledShot", ctx: "ShotContext") -> dict:
        """What this backend draws from beyond the compiled request, for the cache key (pure)."""
        return {}

    @classmethod
    def pre_spend(cls, shot: "CompiledShot", mcaps: "ModelCaps") -> list[str]:
        """What this backend would fail only after payment, beyond the table-driven checks every backend
        gets (checks.pre_spend): each a message, refused before anything is spent. Pure."""
        return []

    @abstractmethod
    def render(self, req: RenderRequest) -> RenderResult: ...

    def ahead(self, jobs: list, report: Callable[[str, str], None] = lambda shot, state: None) -> None:  # noqa: B027
        """Told every job it is about to render, before any starts (the animatic voices their lines);
        `report(shot, state)` shows what it does for which shot. Optional: most backends do each job on
        its own."""

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing
        """Release connections or models."""

    def cancel(self) -> None:  # noqa: B027 - local backends stop with their processes
        """Stop waiting (Ctrl-C): jobs already submitted stay recorded and are re-attached next run."""


def create(caps: BackendCaps, cache=None, clock: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep) -> Backend:
    """The backend for a capability entry, found through the registry; `clock` and `sleep` are
    what it waits with (tests inject fakes)."""
    from storyboard.backends.registry import backend_class
    return backend_class(caps.name)(caps, cache=cache, clock=clock, sleep=sleep)


def deferred(caps: BackendCaps, cache=None, clock: Callable[[], float] = time.time,
             sleep: Callable[[float], None] = time.sleep) -> Backend:
    """The backend, made when a shot first needs it: a run the cache serves whole never builds a
    provider's SDK client (its imports, TLS context and credentials: a second on some). The renderer
    tells `ahead` every job it will render before the first starts, so the backend is made there, in
    the run's own thread: a missing key is still said before any work, as with `create`."""
    return _Deferred(caps, lambda: create(caps, cache, clock, sleep))


class _Deferred(Backend):
    def __init__(self, caps: BackendCaps, make: Callable[[], Backend]):
        super().__init__(caps)
        self._make, self._made, self._lock = make, None, threading.Lock()

    def _backend(self) -> Backend:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made

    def render(self, req: RenderRequest) -> RenderResult:
        return self._backend().render(req)

    def ahead(self, jobs: list, report: Callable[[str, str], None] = lambda shot, state: None) -> None:
        if jobs:
            self._backend().ahead(jobs, report)

    def close(self) -> None:
        if self._made is not None:
            self._made.close()

    def cancel(self) -> None:
        if self._made is not None:
            self._made.cancel()
