"""The one small interface every backend implements, and the registry that finds them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from storyboard.backends.capabilities import BackendCaps
from storyboard.planner import RenderJob

Report = Callable[[str, "float | None"], None]  # (state, percent) -> None


@dataclass(frozen=True)
class RenderRequest:
    """What a backend gets for one shot. It writes `workdir/clip.mp4` and says what it did."""

    job: RenderJob
    workdir: Path
    asset: Callable[[str], Path]  # a project path from the compiled shot -> a real file
    input_image: Path | None = None  # the first frame, already fitted to the shot's size
    report: Report = lambda state, pct=None: None

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


class Backend(ABC):
    """Render one compiled shot to a clip file. Capabilities are data (`caps`), not code."""

    name: str = ""

    def __init__(self, caps: BackendCaps, cache=None):
        self.caps = caps

    @abstractmethod
    def render(self, req: RenderRequest) -> RenderResult: ...

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing
        """Release connections or models."""

    def cancel(self) -> None:  # noqa: B027 - local backends stop with their processes
        """Stop waiting (Ctrl-C): jobs already submitted stay recorded and are re-attached next run."""


_REGISTRY: dict[str, Callable[[BackendCaps], Backend]] = {}


def register(name: str):
    def deco(factory):
        _REGISTRY[name] = factory
        return factory
    return deco


def create(caps: BackendCaps, cache=None) -> Backend:
    """The backend for a capability entry; plugins register under their table name."""
    if caps.name not in _REGISTRY:
        # built-ins register on import
        from storyboard.backends import animatic  # noqa: F401
        try:
            from storyboard.backends import openai_videos  # noqa: F401
            from storyboard.backends import veo  # noqa: F401
            from storyboard.backends import fal  # noqa: F401
        except ImportError:
            pass
    if caps.name not in _REGISTRY:
        from importlib.metadata import entry_points
        for ep in entry_points(group="storyboard.backends"):
            if ep.name == caps.name:
                _REGISTRY[caps.name] = ep.load()
    if caps.name not in _REGISTRY:
        from storyboard.errors import UsageError
        raise UsageError(f"backend {caps.name!r} is in the capability table but no code is registered for it")
    return _REGISTRY[caps.name](caps, cache=cache)
