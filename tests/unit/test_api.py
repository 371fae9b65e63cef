"""The public Python API: its names are pinned, and a short film goes through it without the CLI."""

from __future__ import annotations

import dataclasses

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


# -- the options, and the steps that refuse what they would ignore --------------------------------

def test_options_are_checked_when_made():
    assert storyboard.RenderOptions(select="a").select == ("a",)  # one id, not its letters
    for bad in ({"takes": 0}, {"concurrency": 0}, {"max_cost": -1}, {"max_cost": float("nan")},
                {"max_cost": float("inf")}, {"takes": True}):
        with pytest.raises(storyboard.UsageError):
            storyboard.RenderOptions(**bad)
    with pytest.raises(storyboard.UsageError, match="max_costs: not a render option; the options are select"):
        storyboard.RenderOptions.of(None, max_costs=2)
    base = storyboard.RenderOptions(max_cost=2)
    assert storyboard.RenderOptions.of(base, takes=3) == storyboard.RenderOptions(max_cost=2, takes=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.max_cost = 5


def two_shots(project) -> storyboard.Prepared:
    sb = storyboard.loads("version: 1\nshots: [{id: a, duration: 2}, {id: b, duration: 2}]\n", project / "x.yaml")
    return storyboard.compile(sb, "openai")


def test_each_step_refuses_an_option_it_would_ignore(project):
    prep = two_shots(project)
    plan = storyboard.plan(prep, select=["a"])
    assert [j.selected for j in plan.jobs] == [True, False]
    with pytest.raises(storyboard.UsageError, match="render_shots with a plan does not use select"):
        storyboard.render_shots(prep, plan, select=["b"], confirm=lambda p: True)
    with pytest.raises(storyboard.UsageError, match="render_shots does not use pick"):
        storyboard.render_shots(prep, plan, pick="identity", confirm=lambda p: True)
    with pytest.raises(storyboard.UsageError, match="render_shots does not use loudness"):
        storyboard.render_shots(prep, plan, storyboard.RenderOptions(loudness=-16), confirm=lambda p: True)
    with pytest.raises(storyboard.UsageError, match="plan does not use max_cost, concurrency|plan does not use "
                                                     "concurrency, max_cost"):
        storyboard.plan(prep, concurrency=2, max_cost=1)
    rendered = storyboard.Rendered(plan, {}, 0.0)
    with pytest.raises(storyboard.UsageError, match="cut does not use takes"):
        storyboard.cut(prep, rendered, project / "out", takes=2)
    assert not (project / "out").exists()  # refused before anything was written


def test_without_a_plan_render_shots_plans_with_the_options(project):
    """select is not ignored when no plan is given: it makes the plan (nothing is spent without a yes)."""
    with pytest.raises(storyboard.SpendNotConfirmed) as e:
        storyboard.render_shots(two_shots(project), select=["a"], confirm=lambda plan: False)
    assert "$0.40" in str(e.value)  # one shot of two


def test_cut_and_render_refuse_a_folder_of_someone_elses_files(project):
    prep = two_shots(project)
    out = project / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    rendered = storyboard.Rendered(storyboard.plan(prep), {}, 0.0)
    for attempt in (lambda: storyboard.cut(prep, rendered, out),
                    lambda: storyboard.render(prep, out, confirm=lambda p: True)):
        with pytest.raises(storyboard.UsageError, match="holds files storyboard did not write .thesis.docx."):
            attempt()
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]  # not even a lock file


def test_cut_and_render_hold_the_output_folders_lock(project):
    from storyboard.store.files import folder_lock
    prep = two_shots(project)
    rendered = storyboard.Rendered(storyboard.plan(prep), {}, 0.0)
    with folder_lock(project / "out"):  # another process writing there
        with pytest.raises(storyboard.Locked):
            storyboard.cut(prep, rendered, project / "out")
        with pytest.raises(storyboard.Locked):
            storyboard.render(prep, project / "out", confirm=lambda p: True)


def test_render_refuses_a_prepared_storyboard_for_another_backend(project):
    with pytest.raises(storyboard.UsageError, match="compiled for openai, not animatic"):
        storyboard.render(two_shots(project), project / "out", backend="animatic")


# -- what a notebook shows ------------------------------------------------------------------------

def test_reprs_are_one_short_line():
    from tests.conftest import EXAMPLES
    sb = storyboard.load(EXAMPLES / "keeper" / "keeper.yaml")
    prep = storyboard.compile(sb, "openai")
    plan = storyboard.plan(prep)
    job = plan.jobs[0]
    shown = {"loaded": repr(sb), "prepared": repr(prep), "plan": repr(plan), "job": repr(job),
             "outcome": repr(storyboard.Outcome(job, "failed", reason="x" * 5000)),
             "rendered": repr(storyboard.Rendered(plan, {j.shot.id: storyboard.Outcome(j, "cached") for j in plan.jobs},
                                                  1.5)),
             "cache": repr(storyboard.Cache())}
    for what, text in shown.items():
        assert len(text) < 300 and "\n" not in text, (what, len(text))
    assert shown["loaded"] == "<Loaded keeper.yaml 'The Keeper': 6 shots, 33.5s, 3 characters, 2 locations>"
    assert shown["prepared"].startswith("<Prepared keeper.yaml for openai: 6 shots")
    assert shown["plan"] == f"<Plan on openai: 6 shots, 0 cached, 6 to render, ${plan.total:.2f}>"
    assert shown["rendered"] == "<Rendered 6 shots: 6 cached; $1.50 spent>"


def test_a_plan_in_a_notebook_is_a_table_of_shots(project):
    plan = storyboard.plan(two_shots(project), select=["a"])
    page = plan._repr_html_()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    assert len(rows) == 2
    assert "<td>a</td>" in rows[0] and plan.jobs[0].key[:12] in rows[0] and "miss" in rows[0] and "$0.40" in rows[0]
    assert "<td>b</td>" in rows[1] and "$" not in rows[1].split("<td")[-1]  # not selected: no price
    assert "total <b>$0.40</b>" in page
