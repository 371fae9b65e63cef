"""What `storyboard render` prints, on a terminal and in a log, and several storyboards in one run."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from storyboard import cli
from storyboard.cli import main
from tests.conftest import EXAMPLES, read_manifest

FILM = """
version: 1
defaults: {size: 320x180}
characters: {ana: {name: Ana, description: a woman}}
shots:
  - id: one
    duration: 2
    characters: [ana]
    dialogue:
      - ana: We should have left before the rain came down on the whole town tonight.
    transition: dissolve 0.5s
  - {id: two, duration: 1.5, characters: [ana], dialogue: [{ana: Not yet.}]}
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def film(project):
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


def test_on_a_terminal_the_table_ends_done_and_nothing_is_glued_to_it(film, monkeypatch):
    screen = io.StringIO()  # what a terminal shows: stdout and stderr on one screen
    monkeypatch.setattr(cli, "out", Console(file=screen, force_terminal=True, width=100, highlight=False, soft_wrap=True))
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=100, highlight=False, soft_wrap=True))
    assert main(["render", str(film)]) == 0
    text = ANSI.sub("", screen.getvalue()).replace("\r", "\n")
    last_cut_row = [line for line in text.splitlines() if line.startswith("cut ")][-1]
    assert "done" in last_cut_row and "writing exports" not in last_cut_row
    # every message starts on a line of its own
    assert re.search(r"(^|\n)warning: |(^|\n)one: warning: ", text)
    assert re.search(r"\n2 rendered, 0 from the cache, \$0\.00 spent", text)
    assert not re.search(r"\$\d+\.\d\d(storyboard|one|two|warning|2 rendered)", text)


def test_in_a_log_each_shot_and_step_is_a_line_and_the_warning_agrees_with_the_render(film, capsys):
    """In a log, each shot and step is a line. And compile, plan and render use one estimate: the
    shot's 'needs about' (which keeps the lines clear of the 0.5 s dissolve out) less its length and
    that dissolve is by how much the render says the line runs past it. (One render serves both: they
    were two tests rendering the same film.)"""
    assert main(["plan", str(film)]) == 0
    need = float(re.search(r"needs about ([\d.]+)s", capsys.readouterr().err).group(1))
    assert main(["render", str(film)]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert any(x.startswith("one: done") for x in lines) and any(x.startswith("two: done") for x in lines)
    assert "cut: writing exports" in lines
    assert captured.out.startswith("2 rendered, 0 from the cache") and captured.out.count("\n") == 1
    past = float(re.search(r"runs past the end of the 2s shot by ([\d.]+)s", captured.err).group(1))
    assert past == pytest.approx(need - 2 - 0.5, abs=0.051)
    man = read_manifest(film.parent / "film")
    one = man["shots"][0]
    assert any("needs about" in w for w in one["warnings"]) and any("runs past" in w for w in one["warnings"])
    assert (one["in"], one["out"], man["shots"][1]["in"], man["shots"][1]["out"]) == (0.0, 2.0, 1.5, 3.0)


@pytest.mark.slow  # the batch itself is covered by tests/backends/test_several_storyboards.py and test_batch
def test_a_series_in_one_run(tmp_path, capsys):
    files = [str(EXAMPLES / "series" / f"ep0{n}.yaml") for n in (1, 2)]
    out = tmp_path / "series"
    assert main(["render", *files, "--out", str(out), "--concurrency", "2"]) == 0
    captured = capsys.readouterr()
    assert "ep01: 2 rendered, 0 from the cache" in captured.out
    assert "ep02: 1 rendered, 1 from the cache" in captured.out  # the shared shot was rendered once, for ep01
    assert "2 of 2 storyboards cut" in captured.out
    assert "ep02/pickup: cached" in captured.err
    for ep, ids in (("ep01", ["pickup", "ride"]), ("ep02", ["pickup", "offer"])):
        assert (out / ep / "final.mp4").is_file()
        assert [s["id"] for s in read_manifest(out / ep)["shots"]] == ids
    assert read_manifest(out / "ep02")["shots"][0]["status"] == "cached"


def test_an_interrupt_is_said_on_a_line_of_its_own(film, monkeypatch):
    from storyboard.animatic.backend import AnimaticBackend

    def interrupted(self, req):
        req.report("drawing", 5)
        raise KeyboardInterrupt
    monkeypatch.setattr(AnimaticBackend, "render", interrupted)
    screen = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=screen, force_terminal=True, width=100, highlight=False, soft_wrap=True))
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=100, highlight=False, soft_wrap=True))
    assert main(["render", str(film)]) == 130
    text = ANSI.sub("", screen.getvalue())
    assert "\nstoryboard: interrupted; run the same command again to resume" in text
    assert "shot" in text  # the table was on screen when it happened


def test_a_loudness_miss_is_said_in_one_line_and_recorded(film, capsys):
    """-2 LUFS under a -1 dBTP ceiling cannot be reached (that is 1 dB from peak to loudness): the
    cut says so in one line and the manifest records what final.mp4 measures (issue 22 item 9)."""
    assert main(["render", str(film), "--loudness", "-2"]) == 0
    said = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning: ") and "LUFS" in x]
    assert len(said) == 1 and said[0].startswith("warning: the sound lands at"), said
    sound = read_manifest(film.parent / "film")["sound"]
    assert sound["on_target"] is False and sound["target_lufs"] == -2.0
    assert sound["loudness_lufs"] < -2.5 and sound["true_peak_dbtp"] <= -1.0
    assert main(["render", str(film)]) == 0  # the default target is met, and said to be
    sound = read_manifest(film.parent / "film")["sound"]
    assert sound["on_target"] is True and abs(sound["loudness_lufs"] - -14) <= 0.5 and sound["true_peak_dbtp"] <= -1
    assert not [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning: ") and "LUFS" in x]
