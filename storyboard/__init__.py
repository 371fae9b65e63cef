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

__version__ = "0.1.0"

# Each public name is imported from its module when first asked for: `import storyboard` stays light,
# and so does any process that needs one part only (the voices' child process imports
# storyboard.animatic.voices, and with eager imports paid for the whole pipeline: 0.4 CPU-s a render).
_WHERE = {
    **{name: "storyboard.errors" for name in (
        "AmbiguousSubmission", "BackendError", "BackendUnusable", "BudgetExceeded", "Diagnostic", "FormatError",
        "Locked", "MediaError", "QuotaError", "RetriesExhausted", "ShotBlocked", "SpendNotConfirmed", "Stop",
        "StoryboardError", "UsageError")},
    "RichProgress": "storyboard.displays", "TqdmProgress": "storyboard.displays",
    **{name: "storyboard.model.jobs" for name in ("Event", "Outcome", "Plan", "Prepared", "Rendered", "RenderJob")},
    "Loaded": "storyboard.model.loaded", "RenderOptions": "storyboard.model.options",
    "cut": "storyboard.pipeline", "plan": "storyboard.pipeline", "render": "storyboard.pipeline",
    "render_shots": "storyboard.pipeline", "compile": "storyboard.pipeline",  # pipeline.prepare: the format's verb
    "Progress": "storyboard.progress", "Cache": "storyboard.store.cache", "CutResult": "storyboard.cutting",
    "load": "storyboard.stages.loader", "loads": "storyboard.stages.loader",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'storyboard' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), "prepare" if name == "compile" else name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "load", "loads", "compile", "plan", "render_shots", "cut", "render",
    "RenderOptions", "Loaded", "Prepared", "Plan", "RenderJob", "Rendered", "Outcome", "Event", "CutResult", "Cache",
    "Diagnostic", "Progress", "RichProgress", "TqdmProgress",
    "StoryboardError", "UsageError", "SpendNotConfirmed", "FormatError", "Stop", "BudgetExceeded", "QuotaError",
    "RetriesExhausted", "AmbiguousSubmission", "BackendError", "BackendUnusable", "ShotBlocked", "MediaError", "Locked",
    "__version__",
]
