"""storyboard: turn a film written as a YAML storyboard into a finished cut.

    import storyboard
    sb = storyboard.load("film.yaml")                      # or storyboard.loads(text, "film.yaml")
    prep = storyboard.compile(sb, backend="animatic")      # checked and compiled for one backend
    plan = storyboard.plan(prep)                           # keys, cache hits, prices; spends nothing
    rendered = storyboard.render_shots(prep, plan)         # an Outcome per shot
    result = storyboard.cut(prep, rendered, "film-out")    # final.mp4, subtitles, exports, manifest

or in one call, locked and checked like the command line (options as a RenderOptions or by name):

    result = storyboard.render("film.yaml", "film-out", max_cost=5, confirm=lambda plan: plan.total < 5,
                               progress=storyboard.RichProgress())

Errors are subclasses of storyboard.StoryboardError (see storyboard.errors for the tree).
"""

from storyboard.errors import (AmbiguousSubmission, BackendError, BackendUnusable, BudgetExceeded, Diagnostic,
                               FormatError, Locked, MediaError, QuotaError, RetriesExhausted, ShotBlocked,
                               SpendNotConfirmed, Stop, StoryboardError, UsageError)
from storyboard.displays import RichProgress, TqdmProgress
from storyboard.model.jobs import Event, Outcome, Plan, Prepared, Rendered, RenderJob
from storyboard.model.loaded import Loaded
from storyboard.model.options import RenderOptions
from storyboard.pipeline import cut, plan, render, render_shots, prepare as compile  # noqa: A001 - the format's verb
from storyboard.progress import Progress
from storyboard.store.cache import Cache
from storyboard.stages.loader import load, loads

__version__ = "0.1.0"


def __getattr__(name: str):
    """CutResult comes with the cut's media stack: imported when first asked for, so `import storyboard`
    (and the command line's start) stays light."""
    if name == "CutResult":
        from storyboard.cutting import CutResult
        return CutResult
    raise AttributeError(f"module 'storyboard' has no attribute {name!r}")

__all__ = [
    "load", "loads", "compile", "plan", "render_shots", "cut", "render",
    "RenderOptions", "Loaded", "Prepared", "Plan", "RenderJob", "Rendered", "Outcome", "Event", "CutResult", "Cache",
    "Diagnostic", "Progress", "RichProgress", "TqdmProgress",
    "StoryboardError", "UsageError", "SpendNotConfirmed", "FormatError", "Stop", "BudgetExceeded", "QuotaError",
    "RetriesExhausted", "AmbiguousSubmission", "BackendError", "BackendUnusable", "ShotBlocked", "MediaError", "Locked",
    "__version__",
]
