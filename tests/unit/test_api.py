"""The public Python API: its names are pinned, and a short film goes through it without the CLI."""

from __future__ import annotations

import pytest

import storyboard

EXPORTED = {
    "load", "loads", "compile", "plan", "render_shots", "cut", "render",
    "RenderOptions", "Loaded", "Prepared", "Plan", "RenderJob", "Rendered", "Outcome", "Event", "CutResult", "Cache",
    "Diagnostic", "Progress", "RichProgress", "TqdmProgress",
    "StoryboardError", "UsageError", "SpendNotConfirmed", "FormatError", "Stop", "BudgetExceeded", "QuotaError",
    "RetriesExhausted", "AmbiguousSubmission", "BackendError", "BackendUnusable", "ShotBlocked", "MediaError", "Locked",
    "__version__",
}


def test_exported_names_are_pinned():
    assert set(storyboard.__all__) == EXPORTED
    namespace: dict = {}
    exec("from storyboard import *", namespace)  # every name in __all__ resolves, CutResult (imported late) too
    assert EXPORTED - {"__version__"} <= set(namespace)


def test_every_public_function_says_what_it_does():
    for name in EXPORTED:
        obj = getattr(storyboard, name)
        if callable(obj) and not (isinstance(obj, type) and issubclass(obj, Exception)):
            doc = obj.__doc__ or ""
            assert doc and not doc.startswith(f"{name}("), f"{name} has no docstring of its own"


def test_every_error_is_a_storyboard_error():
    for name in EXPORTED:
        obj = getattr(storyboard, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, storyboard.StoryboardError), name


def test_loads_compile_and_plan_without_files(project):
    sb = storyboard.loads("version: 1\nshots: [{id: a, duration: 2, action: A door opens.}]\n", project / "x.yaml")
    prep = storyboard.compile(sb, "openai")
    plan = storyboard.plan(prep)
    assert [j.shot.id for j in plan.jobs] == ["a"] and plan.total == pytest.approx(0.4)
    assert plan.jobs[0].context.shot.action == "A door opens."


def test_a_paid_render_without_a_yes_spends_nothing(project):
    sb = storyboard.loads("version: 1\nshots: [{id: a, duration: 2}]\n", project / "x.yaml")
    prep = storyboard.compile(sb, "openai")
    with pytest.raises(storyboard.SpendNotConfirmed) as e:
        storyboard.render_shots(prep, confirm=lambda plan: False)
    assert "$0.40" in str(e.value) and "--yes" not in str(e.value)


def test_format_errors_carry_their_place(project):
    with pytest.raises(storyboard.FormatError) as e:
        storyboard.loads("version: 1\nshots: [{id: a, duration: 40}]\n", project / "x.yaml")
    d = e.value.diagnostics[0]
    assert (d.line, d.col) == (2, 27) and "1 to 20 seconds" in d.message


def test_load_is_pure(project, monkeypatch):
    """Loading reads the storyboard and its includes, never the user's config."""
    (project / "bad-config.toml").write_text("this is [ not toml")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(project / "bad-config.toml"))
    sb = storyboard.loads("version: 1\ndefaults: {model: no-such-model}\nshots: [{id: a, duration: 2}]\n",
                          project / "x.yaml")
    assert sb.storyboard.defaults.model == "no-such-model"
