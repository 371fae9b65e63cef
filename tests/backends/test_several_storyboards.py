"""Episodes rendered in one run on a paid backend (the fake Videos API): one confirmation for the
run, a request two episodes share paid once, and --max-cost held across the whole run."""

from __future__ import annotations

import pytest

from storyboard.cli import main
from tests.conftest import read_manifest

SHARED = "  - {id: open, duration: 4, action: A calm sea at dawn.}\n"
EP1 = "version: 1\ntitle: One\ndefaults: {size: 320x180}\nshots:\n" + SHARED + "  - {id: gull, duration: 4, action: A gull crosses the frame.}\n"
EP2 = "version: 1\ntitle: Two\ndefaults: {size: 320x180}\nshots:\n" + SHARED + "  - {id: boat, duration: 4, action: A boat leaves the harbour.}\n"


@pytest.fixture
def series(sora, project):
    """Two episodes sharing a shot, on the fake Videos API (tests/backends/conftest.py)."""
    (project / "ep1.yaml").write_text(EP1)
    (project / "ep2.yaml").write_text(EP2)
    return sora


def render(project, *extra) -> int:
    return main(["render", str(project / "ep1.yaml"), str(project / "ep2.yaml"), "--backend", "openai",
                 "--out", str(project / "out"), *extra])


def test_one_confirmation_and_a_shared_request_paid_once(series, project, capsys):
    assert render(project) == 2  # no --yes and no terminal: nothing spent
    assert "costs $1.20" in capsys.readouterr().err and series.ledger.creates == 0  # 3 requests of 4 s, not 4
    assert render(project, "--yes") == 0
    assert series.ledger.creates == 3 and series.ledger.seconds_billed == 12
    one, two = read_manifest(project / "out" / "ep1"), read_manifest(project / "out" / "ep2")
    assert [s["status"] for s in one["shots"]] == ["rendered", "rendered"]
    assert [s["status"] for s in two["shots"]] == ["cached", "rendered"]
    assert one["spent"] + two["spent"] == pytest.approx(1.2)


def test_max_cost_holds_for_the_whole_run(series, project, capsys):
    assert render(project, "--yes", "--max-cost", "0.8", "--concurrency", "1") == 4
    assert series.ledger.seconds_billed == 8  # two shots of $0.40: ep1 whole, then nothing more
    captured = capsys.readouterr()
    assert "would pass --max-cost $0.80" in captured.err
    assert "storyboard: --max-cost reached" in captured.err
