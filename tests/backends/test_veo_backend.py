"""Veo 3.1 through the real google-genai SDK against a fake Gemini API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes
from tests.conftest import read_manifest, wait_for
from tests.backends.fake_gemini import FakeGemini

FILM = """
version: 1
defaults: {model: veo-3.1-fast-generate-preview}
characters:
  ana: {name: Ana, description: a woman in a red coat, reference: ana.png}
shots:
  - {id: one, duration: 6, characters: [ana], action: Ana walks along the pier.}
  - {id: two, duration: 4, characters: [ana], continuity: continuous, action: Ana stops and looks out to sea.}
  - {id: three, duration: 5, action: A storm gathers over the water.}
"""


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("veo-media")


@pytest.fixture
def veo(media, project, monkeypatch):
    from PIL import Image
    fake = FakeGemini(media)
    cfg = project / "config.toml"
    cfg.write_text("[backends.veo]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(project / "ana.png")
    (project / "film.yaml").write_text(FILM)
    yield fake
    fake.stop()


def render(project, *extra) -> int:
    return main(["render", str(project / "film.yaml"), "--backend", "veo", "--yes", *extra])


def manifest(project) -> dict:
    return read_manifest(project / "film")


def test_operation_lifecycle_references_and_cut(veo, project, capsys):
    assert render(project) == 0
    ops = veo.ledger.operations
    assert sorted(o["seconds"] for o in ops) == [4, 6, 6]  # 6 s as 6, 4 s as 4, 5 s as the next length up
    by_prompt = {o["prompt"].split("Actions:")[1].strip()[2:12]: o for o in ops}
    assert by_prompt["Ana walks "]["references"] == 1 and not by_prompt["Ana walks "]["image"]
    assert by_prompt["Ana stops "]["image"]  # the continuous shot starts on the last frame
    assert all(o["params"]["negativePrompt"] for o in ops) and all(o["params"]["aspectRatio"] == "16:9" for o in ops)
    man = manifest(project)
    assert man["spent"] == pytest.approx(16 * 0.15)
    assert all(s["job_id"].startswith("models/veo-3.1-fast-generate-preview/operations/") for s in man["shots"])
    assert decodes(project / "film" / "final.mp4") == 15 * 24
    capsys.readouterr()
    assert render(project) == 0 and veo.ledger.creates == 3  # the cache serves a second run


def test_filtered_take_is_reported_and_not_charged(veo, project, capsys):
    veo.behaviour.filter_prompts = ("storm",)
    assert render(project) == 1
    err = capsys.readouterr().err
    assert "three: blocked" in err and "safety_filtered" in err and "filtered by our safety systems" in err
    assert manifest(project)["spent"] == pytest.approx(10 * 0.15)  # the filtered take costs nothing


def test_retry_after_rate_limit(veo, project):
    veo.behaviour.rate_limit_creates = 2
    assert render(project, "--concurrency", "1") == 0
    assert len(veo.ledger.operations) == 3 and veo.ledger.creates == 5


def test_quota_stops(veo, project, capsys):
    veo.behaviour.quota = True
    assert render(project) == 5
    assert "billing" in capsys.readouterr().err


def test_invalid_parameters_fail_the_shot_clearly(veo, project, capsys):
    veo.behaviour.invalid = True
    assert render(project) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err


def test_resume_after_kill_makes_no_duplicate_operation(veo, project):
    veo.behaviour.polls_to_finish = 60  # about a second of polling: the kill lands mid-operation
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "storyboard", "render", str(project / "film.yaml"), "--backend", "veo", "--yes"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(veo.ledger.operations) >= 2)
    # let the replies reach the journal: a kill between the provider making an operation and the
    # journal recording its name is ambiguous for Veo, which is test_intent_without_a_reply_*
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    started = len(veo.ledger.operations)
    assert started >= 2
    veo.behaviour.polls_to_finish = 2
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert len(veo.ledger.operations) == 3  # re-attached to what was started; only the missing one is new
    assert len({o["prompt"] for o in veo.ledger.operations}) == 3


def test_plan_prices_from_the_table(project, capsys, monkeypatch):
    from tests.conftest import EXAMPLES
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "veo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["seconds"] for s in doc["shots"]] == [6, 6, 4, 8, 6, 6]  # a 6 s shot asks for 6
    assert doc["total_text"] == "$14.40"
    cfg = project / "config.toml"
    cfg.write_text('[backends.veo.models."veo-3.1-generate-preview"]\nprice = { "*" = 0.5 }\n')
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "veo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_text"] == "$18.00"  # prices are editable data


def test_intent_without_a_reply_stops_as_ambiguous(veo, project, capsys):
    """A crash after asking but before the answer was recorded: Veo cannot list operations, so
    nothing is submitted again by itself (that could pay twice); the run says so with status 7."""
    from storyboard.cache import Cache
    from storyboard.pipeline import make_plan, prepare
    job = make_plan(prepare(project / "film.yaml", "veo")).jobs[2]
    Cache().save_record("jobs", job.key, {"key": job.key, "shot": job.shot.id, "backend": "veo",
                                          "segments": [{"state": "intent", "intent_at": time.time(), "seconds": 6}]})
    assert render(project) == 7
    assert "cannot list its jobs to check; nothing is submitted again by itself" in capsys.readouterr().err
    assert len(veo.ledger.operations) == 2  # the other two shots rendered; 'three' was not resubmitted
