"""How to render: one options object for the command line, `storyboard.render` and the step functions,
instead of the same dozen parameters repeated by each. A new render flag is a new field here (with
its default and the part of the run it belongs to); every function that takes options takes it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from storyboard.errors import UsageError

# which step of the run reads a field: the plan (what to render), the render (how), the choice of takes
# by identity (render and render_batch only: it scores whole shots between rendering and cutting), the cut
PLAN, RENDER, PICK, CUT = "plan", "render", "pick", "cut"


def _part(name: str) -> Any:
    return {"part": name}


@dataclass(frozen=True)
class RenderOptions:
    """What a run renders and how; the defaults are the command line's. Unknown names and values out
    of range raise UsageError when the options are made, before anything is spent."""

    # the plan: what to render
    select: tuple[str, ...] = field(default=(), metadata=_part(PLAN))  # --shot: only these shots (ids)
    new_take: bool = field(default=False, metadata=_part(PLAN))  # --new-take: another take of the selected shots
    takes: int = field(default=1, metadata=_part(PLAN))  # --takes N: takes 1..N of the selected shots
    # the render: how
    concurrency: int | None = field(default=None, metadata=_part(RENDER))  # jobs at once (None: the backend's)
    max_cost: float | None = field(default=None, metadata=_part(RENDER))  # dollars the run may spend at most
    pick: str | None = field(default=None, metadata=_part(PICK))  # --pick identity: the take most like the refs
    retake_drift: int = field(default=0, metadata=_part(PICK))  # --retake-drift K: more takes of drifting shots
    # the cut: the outputs
    loudness: float = field(default=-14.0, metadata=_part(CUT))  # LUFS of the final mix
    burn_subtitles: bool = field(default=False, metadata=_part(CUT))
    media_root: str | None = field(default=None, metadata=_part(CUT))  # exports name media under this folder
    force: bool = field(default=False, metadata=_part(CUT))  # write into a folder holding files not ours

    def __post_init__(self) -> None:
        if isinstance(self.select, str):  # one id given as a string: not its letters
            object.__setattr__(self, "select", (self.select,))
        else:
            object.__setattr__(self, "select", tuple(self.select or ()))
        if not isinstance(self.takes, int) or isinstance(self.takes, bool) or self.takes < 1:
            raise UsageError("--takes must be at least 1")
        if self.concurrency is not None and (isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int)
                                             or self.concurrency < 1):
            raise UsageError("--concurrency must be at least 1")
        if isinstance(self.retake_drift, bool) or not isinstance(self.retake_drift, int) or self.retake_drift < 0:
            raise UsageError("--retake-drift must be zero or more takes")
        cost = self.max_cost
        if cost is not None and not (isinstance(cost, (int, float)) and not isinstance(cost, bool)
                                     and math.isfinite(cost) and cost >= 0):
            raise UsageError(f"--max-cost must be a finite number of dollars, zero or more (not {cost!r})")

    @classmethod
    def of(cls, options: RenderOptions | None = None, **changes: Any) -> RenderOptions:
        """`options` (the defaults when None) with `changes`: `RenderOptions.of(opts, max_cost=2)`.
        A name that is not an option is a UsageError naming the options there are."""
        names = [f.name for f in fields(cls)]
        unknown = [k for k in changes if k not in names]
        if unknown:
            raise UsageError(f"{', '.join(sorted(unknown))}: not a render option; the options are {', '.join(names)}")
        base = options if options is not None else cls()
        if not isinstance(base, cls):
            raise UsageError(f"options must be a storyboard.RenderOptions, not {type(base).__name__}")
        return replace(base, **changes) if changes else base

    def changed(self, *parts: str) -> list[str]:
        """The fields of these parts set to something other than their default."""
        default = type(self)()
        return [f.name for f in fields(self) if f.metadata.get("part") in parts
                and getattr(self, f.name) != getattr(default, f.name)]

    def refuse(self, step: str, parts: tuple[str, ...], why: str) -> None:
        """UsageError when a field of `parts` is set: `step` would ignore it (`why` says where it belongs)."""
        ignored = self.changed(*parts)
        if ignored:
            raise UsageError(f"{step} does not use {', '.join(ignored)}: {why}")
