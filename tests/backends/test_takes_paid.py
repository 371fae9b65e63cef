"""Takes on a paid backend (the Sora 2 protocol, a fake server on 127.0.0.1): `render --takes N` makes
and prices them under --max-cost, and picking another take never calls the provider."""

from __future__ import annotations

import json

import pytest

from storyboard.cli import main
from tests.conftest import read_manifest

FILM = """
version: 1
title: Sea
defaults: {{size: 320x180}}
shots:
  - {{id: one, duration: 4, action: A calm sea at dawn.{pin}}}
  - {{id: two, duration: 4, continuity: continuous, action: The sea darkens.}}
"""


def film(project, pin: int | None = None):
    path = project / "film.yaml"
    path.write_text(FILM.format(pin=f", take: {pin}" if pin else ""))
    return path


def test_takes_are_priced_made_within_the_budget_and_picked_for_free(sora, project, capsys):
    path = film(project)
    assert main(["plan", str(path), "--backend", "openai", "--shot", "one", "--takes", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"] == pytest.approx(3 * 0.4)  # three takes of 'one' (4 s at $0.10); 'two' not asked for
    assert [t["take"] for t in doc["other_takes"]] == [1, 2] and doc["shots"][0]["take"] == 3
    # $1.00 pays for two takes: the cut's take (3) first, then take 1; take 2 would pass the cap
    status = main(["render", str(path), "--backend", "openai", "--yes", "--shot", "one", "--takes", "3",
                   "--max-cost", "1.0", "--concurrency", "1"])
    assert status == 4 and len(sora.ledger.jobs) == 2
    man = read_manifest(project / "film")
    assert man["spent"] == pytest.approx(0.8) and man["shots"][0]["take"] == 3
    assert [(t["take"], t["status"]) for t in man["other_takes"]] == [(1, "rendered"), (2, "skipped")]
    # again without a cap: only take 2 is made ('two' was never asked for: a slate, so status 1)
    assert main(["render", str(path), "--backend", "openai", "--yes", "--takes", "3", "--shot", "one"]) == 1
    assert len(sora.ledger.jobs) == 3
    # pin take 1: the cut takes it from the cache; only 'two' (it continues take 1) is asked for
    film(project, pin=1)
    assert main(["render", str(path), "--backend", "openai", "--yes"]) == 0
    assert len(sora.ledger.jobs) == 4 and "The sea darkens" in sora.ledger.jobs[-1]["prompt"]
    man = read_manifest(project / "film")
    assert [(s["status"], s["take"]) for s in man["shots"]] == [("cached", 1), ("rendered", 1)]
    capsys.readouterr()
    assert main(["takes", str(path), "--backend", "openai", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["shots"][0]
    assert [(t["take"], t["status"], t["cost"]) for t in listed["takes"]] == [(1, "made", 0.4), (2, "made", 0.4), (3, "made", 0.4)]
    assert listed["in_cut"] == 1 and listed["pinned"] is True
