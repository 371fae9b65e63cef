"""What the exports and messages say matches what the picture and the user said (issue 22, item 16)."""

from __future__ import annotations

from storyboard.cli import main

VO = """
version: 1
characters:
  ana: {name: Ana, description: a woman}
  ben: {name: Ben, description: a man}
shots:
  - id: one
    duration: 5
    characters: [ben]
    action: Ben reads a letter.
    dialogue:
      - ana: "(V.O.) I remember the sea."
      - ben: "So do I."
"""


def test_srt_keeps_the_voice_over_mark_the_burnt_in_line_shows(project):
    (project / "film.yaml").write_text(VO)
    assert main(["render", str(project / "film.yaml")]) == 0
    srt = (project / "film" / "final.srt").read_text()
    assert "ANA (V.O.): I remember the sea." in srt and "BEN: So do I." in srt
    assert "<v Ana (V.O.)>I remember the sea." in (project / "film" / "final.vtt").read_text()


PINNED = """
version: 1
shots:
  - {id: one, duration: 1.5, action: A door opens.}
  - id: two
    duration: 1.5
    action: ACTION
    take: 1
"""


def test_a_pinned_shot_that_changed_renders_its_latest_take_with_a_warning(project, capsys):
    """Issue 22, item 11: the pin no longer blocks `render` or `render --shot`."""
    path = project / "film.yaml"
    path.write_text(PINNED.replace("ACTION", "Rain."))
    assert main(["render", str(path)]) == 0
    path.write_text(PINNED.replace("ACTION", "Snow."))
    capsys.readouterr()
    assert main(["render", str(path), "--shot", "two"]) == 0
    err = capsys.readouterr().err
    assert "warning: shot 'two' pins take 1, but its current request on animatic has no takes yet" in err
    assert "the cut uses its latest take" in err
    from tests.conftest import read_manifest
    two = read_manifest(project / "film")["shots"][1]
    assert (two["status"], two["take"]) == ("rendered", 1)
    assert main(["render", str(path)]) == 0 and main(["plan", str(path)]) == 0
    assert "pins take" not in capsys.readouterr().err  # take 1 of the new request exists now


def test_plan_and_validate_say_the_animatic_not_the_paid_model(project, capsys):
    path = project / "film.yaml"
    path.write_text("version: 1\nshots:\n  - {id: a, duration: 2, action: A door.}\n")
    assert main(["validate", str(path)]) == 0 and main(["plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sora-2 at 1280x720" not in out and ", sora-2" not in out
    assert out.count("drawn panels at 1280x720 (sora-2 is for a paid backend)") == 2
    assert main(["plan", str(path), "--backend", "openai"]) == 0
    assert "on openai, sora-2 at 1280x720" in capsys.readouterr().out


def test_paths_in_messages_stay_absolute_when_given_absolute(project, capsys, monkeypatch):
    bad = project / "bad.yaml"
    bad.write_text("version: 1\ninclude: [bible.yaml]\nshots:\n  - {id: a, duration: 0}\n")
    (project / "bible.yaml").write_text("characters:\n  ana: {name: Ana, description: a woman, reference: ana.png}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:" in err and f"{project / 'bible.yaml'}:2:" in err and "../" not in err
    monkeypatch.chdir(project)
    assert main(["validate", "bad.yaml"]) == 2
    err = capsys.readouterr().err
    assert "\nbad.yaml:4:" in "\n" + err and "bible.yaml:2:" in err and str(project) not in err
