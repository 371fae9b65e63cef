"""Veo 3.1 GA through Vertex AI with the real google-genai SDK against a fake on 127.0.0.1, driven by
storyboard.render_shots on a fake clock (no cut). The same through the command line, with the cut
and a killed process, is tests/integration/test_money.py."""

from __future__ import annotations

import json
import time

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes
from tests.backends.conftest import render

FILM = """
version: 1
defaults: {model: veo-3.1-fast-generate-001}
characters:
  ana: {name: Ana, description: a woman in a red coat, reference: ana.png}
shots:
  - {id: one, duration: 6, characters: [ana], action: Ana walks along the pier.}
  - {id: two, duration: 4, characters: [ana], continuity: continuous, action: Ana stops and looks out to sea.}
  - {id: three, duration: 5, action: A storm gathers over the water.}
"""


@pytest.fixture
def film(veo, project):
    from PIL import Image
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(project / "ana.png")
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


def test_operation_lifecycle_references_and_rerun(veo, film):
    run = render(film, "veo")
    assert run.status == 0
    ops = veo.ledger.jobs
    assert sorted(o["seconds"] for o in ops) == [4, 6, 6]  # 6 s as 6, 4 s as 4, 5 s as the next length up
    by_prompt = {o["prompt"].split("Actions:")[1].strip()[2:12]: o for o in ops}
    assert by_prompt["Ana walks "]["references"] == 1 and not by_prompt["Ana walks "]["image"]
    assert by_prompt["Ana stops "]["image"]  # the continuous shot starts on the last frame
    assert all(o["size"] == "1280x720" for o in ops)
    man = run.manifest
    assert man["spent"] == pytest.approx(16 * 0.15)
    assert all(s["job_id"].startswith("projects/proj/locations/us-central1/publishers/google/models/"
                                      "veo-3.1-fast-generate-001/operations/") for s in man["shots"])
    assert [decodes(o.entry.clip) for o in run.outcomes.values()] == [6 * 24, 4 * 24, 6 * 24]  # 24 fps from Veo
    assert render(film, "veo").status == 0 and veo.ledger.creates == 3  # the cache serves a second run


def test_filtered_take_is_reported_and_not_charged(veo, film):
    veo.faults.moderate_prompts = ("storm",)
    run = render(film, "veo")
    assert run.status == 1
    three = run.outcomes["three"]
    assert three.status == "blocked"
    assert "safety_filtered" in three.reason and "filtered by Responsible AI" in three.reason
    assert run.manifest["spent"] == pytest.approx(10 * 0.15)  # the filtered take costs nothing


def test_retry_after_rate_limit(veo, film):
    veo.faults.rate_limit_creates = 2
    assert render(film, "veo", concurrency=1).status == 0
    assert len(veo.ledger.jobs) == 3 and veo.ledger.creates == 5


def test_quota_stops(veo, film):
    veo.faults.quota = True
    run = render(film, "veo")
    assert run.status == 5
    assert "billing" in str(run.rendered.stop)


def test_a_model_no_longer_served_fails_the_shot_clearly(veo, film):
    veo.faults.retired_models = ("veo-3.1-fast-generate-001",)
    run = render(film, "veo")
    assert run.status == 1
    assert "404" in run.outcomes["one"].reason and "is not found" in run.outcomes["one"].reason


def test_a_retired_preview_id_warns_and_renders_with_its_successor(veo, film, capsys):
    # the message as the command line says it (plan says what render would), and the requests as made
    film.write_text(FILM.replace("veo-3.1-fast-generate-001", "veo-3.1-fast-generate-preview, size: 320x180")
                    .replace("reference: ana.png}", "reference: ana.png, identity: false}"))
    said = ("model 'veo-3.1-fast-generate-preview' was retired by the provider on 2026-10-22; rendering with its "
            "successor 'veo-3.1-fast-generate-001'")
    assert main(["plan", str(film), "--backend", "veo"]) == 0
    assert said in capsys.readouterr().err
    run = render(film, "veo")
    assert run.status == 0 and any(said in d.message for d in run.prep.warnings)
    assert {o["model"] for o in veo.ledger.jobs} == {"veo-3.1-fast-generate-001"}


def test_plan_prices_from_the_table(project, capsys, monkeypatch):
    from tests.conftest import EXAMPLES
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "veo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["seconds"] for s in doc["shots"]] == [8, 6, 4, 8, 6, 6]  # a 6 s shot asks for 6, a 7 s one 8
    assert doc["total_text"] == "$15.20"
    cfg = project / "config.toml"
    cfg.write_text('[backends.vertex.models."veo-3.1-generate-001"]\nprice = { "*" = 0.5 }\n')
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "veo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_text"] == "$19.00"  # prices are editable data


def test_intent_without_a_reply_stops_as_ambiguous(veo, film):
    """A crash after asking but before the answer was recorded: Veo cannot list operations, so
    nothing is submitted again by itself (that could pay twice); the run says so with status 7."""
    from storyboard.store.cache import Cache
    from storyboard.pipeline import make_plan, prepare
    job = make_plan(prepare(film, "veo")).jobs[2]
    Cache().save_record("jobs", job.key, {"key": job.key, "shot": job.shot.id, "backend": "veo",
                                          "segments": [{"state": "intent", "intent_at": time.time(), "seconds": 6}]})
    run = render(film, "veo")
    assert run.status == 7
    assert "cannot list its jobs to check; nothing is submitted again by itself" in str(run.rendered.stop)
    assert len(veo.ledger.jobs) == 2  # the other two shots rendered; 'three' was not resubmitted
