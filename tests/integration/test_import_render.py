"""Every imported draft validates, and one renders with the offline animatic through the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.importers import run
from storyboard.media.probe import probe
from storyboard.stages.loader import load
from tests.conftest import EXAMPLES

CASES = Path(__file__).resolve().parent.parent / "import_cases"
SCRIPTS = sorted(p for p in CASES.iterdir() if p.suffix in (".fountain", ".fdx")) + [EXAMPLES / "screenplay" / "ferry.fountain"]


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_every_imported_draft_validates(project, script):
    done = run(script, project / f"{script.stem}.yaml")
    sb = load(done.path).storyboard
    assert len(sb.shots) == done.shots >= 1
    assert all(2 <= s.duration <= 20 for s in sb.shots)


def test_the_committed_drafts_validate():
    for path in [*sorted(CASES.glob("*.yaml")), EXAMPLES / "screenplay" / "ferry.yaml"]:
        assert main(["validate", str(path)]) == 0, path


SHORT = """\
Title: Two Shots

INT. HUT - NIGHT

Rain.

ANA
Hello.

CUT TO:

EXT. SHORE - NIGHT

Waves.
"""


def test_an_imported_draft_renders_with_the_animatic(project, capsys):
    (project / "short.fountain").write_text(SHORT)
    assert main(["import", str(project / "short.fountain")]) == 0
    assert "wrote " in capsys.readouterr().out
    sb = load(project / "short.yaml").storyboard
    assert [(s.id, s.duration) for s in sb.shots] == [("s01_01", 2), ("s02_01", 2)]
    assert main(["render", str(project / "short.yaml"), "--out", str(project / "out")]) == 0
    info = probe(project / "out" / "final.mp4")
    assert abs(info.duration - sb.running_time) < 0.1
