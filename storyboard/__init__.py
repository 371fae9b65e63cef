"""storyboard: turn a film written as a YAML storyboard into a finished cut.

    import storyboard
    sb = storyboard.load("film.yaml")                      # or storyboard.loads(text, "film.yaml")
    prep = storyboard.compile(sb, backend="animatic")      # checked and compiled for one backend
    plan = storyboard.plan(prep)                           # keys, cache hits, prices; spends nothing
    rendered = storyboard.render_shots(prep, plan)         # an Outcome per shot
    result = storyboard.cut(prep, rendered, "film-out")    # final.mp4, subtitles, exports, manifest

Errors are subclasses of storyboard.StoryboardError (see storyboard.errors for the tree).
"""

from storyboard.errors import (AmbiguousSubmission, BackendError, BackendUnusable, BudgetExceeded, Diagnostic,
                               FormatError, Locked, MediaError, QuotaError, RetriesExhausted, ShotBlocked,
                               SpendNotConfirmed, Stop, StoryboardError, UsageError)
from storyboard.model.jobs import Prepared, Rendered
from storyboard.model.loaded import Loaded
from storyboard.pipeline import (cut, render_shots, make_plan as plan, prepare as compile)  # noqa: A001 - the public verb of the format
from storyboard.stages.loader import load, loads

__version__ = "0.1.0"

__all__ = [
    "load", "loads", "compile", "plan", "render_shots", "cut",
    "Loaded", "Prepared", "Rendered", "Diagnostic",
    "StoryboardError", "UsageError", "SpendNotConfirmed", "FormatError", "Stop", "BudgetExceeded", "QuotaError",
    "RetriesExhausted", "AmbiguousSubmission", "BackendError", "BackendUnusable", "ShotBlocked", "MediaError", "Locked",
    "__version__",
]
