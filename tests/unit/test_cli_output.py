"""What the command line prints, short of rendering: help, validate, plan, and the errors that
stop a render before anything is drawn or spent."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from storyboard import cli
from storyboard.cli import main
from storyboard.store.files import folder_lock
from tests.conftest import EXAMPLES

SHOT = "  - {{id: s{i:04d}, duration: 2, characters: [ana], dialogue: [{{ana: {line}}}]}}\n"
LONG = "We should have left before the rain came down on the whole town tonight"


def film(folder, n: int, line: str = "Hi.", name: str = "film.yaml"):
    text = "version: 1\ncharacters: {ana: {description: a woman}}\nlocations: {room: {description: a room}}\nshots:\n"
    text += "".join(SHOT.format(i=i, line=line) for i in range(n))
    path = folder / name
    path.write_text(text.replace("characters: [ana]", "characters: [ana], location: room"))
    return path


def commands() -> list[str]:
    import argparse
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("command", commands())
def test_every_subcommand_says_what_it_does(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    usage, _, rest = text.partition("\n\n")
    assert usage.startswith(f"usage: storyboard {command}")
    description = rest.split("\n\n")[0]
    assert not description.startswith(("positional arguments", "options")), f"`{command} --help` says nothing of what it does"
    assert len(description.split()) >= 6


def test_validate_prints_warnings(project, capsys):
    path = film(project, 1, LONG)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "film.yaml:5:" in captured.err and "warning: the dialogue of shot 's0000' (14 words) needs about 5.5s" in captured.err
    assert "film.yaml: valid" in captured.out


def test_no_warning_when_the_dialogue_just_fits(project, capsys):
    from storyboard.stages.timeline import dialogue_fit
    need = dialogue_fit([LONG], 1)[0]  # what the line needs, placed tight
    path = project / "fit.yaml"
    for duration, warned in ((round(need, 2), False), (round(need - 0.1, 2), True)):
        path.write_text("version: 1\ncharacters: {ana: {description: a woman}}\nshots:\n"
                        f"  - {{id: a, duration: {duration}, characters: [ana], dialogue: [{{ana: {LONG}}}]}}\n")
        assert main(["validate", str(path)]) == 0
        err = capsys.readouterr().err
        assert ("needs about" in err) is warned, (duration, err)
        if warned:  # what it says it needs is more than the shot has, as printed
            said = float(err.split("needs about ")[1].split("s")[0])
            assert said > duration


def test_a_long_storyboard_is_summed_up_in_short_lines(project, capsys):
    path = film(project, 200, LONG)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "location room: 200 shots: s0000, s0001, s0002, s0003, s0004, s0005 and 194 more" in captured.out
    assert max(len(x) for x in captured.out.splitlines()) < 120
    warned = captured.err.splitlines()
    assert len(warned) == 1 and "warning: 200 shots: the dialogue needs longer than the shot lasts" in warned[0]
    assert warned[0].startswith(f"{path.name}:5:") or ":5:" in warned[0]
    assert main(["validate", "--verbose", str(path)]) == 0
    assert len(capsys.readouterr().err.splitlines()) == 200


def test_a_folder_named_as_the_storyboard(project, capsys):
    film(project / "scene" if (project / "scene").mkdir() is None else project, 1)
    assert main(["render", str(project / "scene")]) == 2
    captured = capsys.readouterr()
    assert "scene:1:1: this is a folder: name a storyboard file in it; the storyboards in it: film.yaml" in captured.err
    assert captured.out == ""


def test_an_unknown_shot_stops_the_render_before_anything_is_drawn(project, capsys):
    path = film(project, 2)
    assert main(["render", str(path), "--shot", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown shot 'nosuch'" in captured.err
    assert not (project / "film").exists()


def test_a_locked_folder_stops_the_render_cleanly(project, capsys):
    path = film(project, 2)
    with folder_lock(project / "film"):
        assert main(["render", str(path)]) == 8
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("storyboard: ") and "is being written by another storyboard process" in captured.err


def test_several_storyboards_one_plan_one_total(capsys):
    files = [str(EXAMPLES / "series" / f"ep0{n}.yaml") for n in (1, 2)]
    assert main(["plan", *files, "--backend", "openai"]) == 0
    out = capsys.readouterr().out
    assert "plan: ep01, ep02 on openai" in out and "in ep01" in out  # ep02's pickup is ep01's request
    assert "to render: 3 shots, 24s of video; total $2.40" in out  # the shared request once
    assert main(["render", *files, "--backend", "openai"]) == 2  # one confirmation for the whole run; none given
    err = capsys.readouterr().err
    assert "costs $" in err and "pass --yes" in err


def test_several_storyboards_with_one_name_need_separate_folders(project, capsys):
    (project / "a").mkdir()
    (project / "b").mkdir()
    one, two = film(project / "a", 1), film(project / "b", 1)
    assert main(["render", str(one), str(two), "--out", str(project / "out")]) == 2
    assert "two files have the same name" in capsys.readouterr().err


def test_plan_of_a_long_film_before_a_render_is_summed_up(project, capsys):
    """The confirmation of a long film shows a line per storyboard, not a row per shot."""
    from storyboard.pipeline import plan_batch, prepare
    batch = plan_batch([prepare(film(project, 40), "openai")])
    cli._show_batch(batch, ["film"], verbose=False)
    out = capsys.readouterr().out
    assert "(40 shots; --verbose lists each)" in out and "s0001" not in out
    cli._show_batch(batch, ["film"], verbose=True)
    assert "s0039" in capsys.readouterr().out


def test_the_progress_display_draws_per_refresh_not_per_event(monkeypatch, project):
    """Ten thousand shots: an event only counts; the picture is built a few times a second."""
    from storyboard.pipeline import plan_batch, prepare
    from storyboard.model.jobs import Event
    screen = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=screen, force_terminal=True, width=120))
    batch = plan_batch([prepare(film(project, 40), "animatic")])
    display = cli._Progress(batch, ["film"])
    drawn = []
    picture = display.picture
    monkeypatch.setattr(display, "picture", lambda: drawn.append(1) or picture())
    display.tally.total = 10_000  # the counts, not the plan, are what an event touches
    display.tally.counts["queued"] = 10_000
    with display:
        for k in range(10_000):
            display.event(0, Event(f"s{k}", "queued"))
            display.event(0, Event(f"s{k}", "done", spent=0.0))
    assert display.tally.finished == 10_000
    assert len(drawn) < 100
    shown = screen.getvalue()
    assert "10000/10000 shots" in shown and "10000 done" in shown


def test_plan_json_of_several_storyboards_counts_a_shared_request_once(capsys):
    import json
    files = [str(EXAMPLES / "series" / f"ep0{n}.yaml") for n in (1, 2)]
    assert main(["plan", *files, "--backend", "openai", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"] == pytest.approx(2.4)
    assert [s["total"] for s in doc["storyboards"]] == pytest.approx([1.6, 0.8])
    pickup = doc["storyboards"][1]["shots"][0]
    assert (pickup["id"], pickup["cost"], pickup["shared_with"]) == ("pickup", 0.0, "ep01")
