"""The Sora 2 protocol backend through the real openai SDK against a fake Videos API on 127.0.0.1:
jobs, cache, resume after a kill, lost replies, rate limits, blocked shots, budgets, quota."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes, probe
from tests.conftest import read_manifest, wait_for
from tests.backends.fake_sora import FakeSora

FILM = """
version: 1
title: Sea
shots:
  - {id: one, duration: 4, action: A calm sea at dawn.}
  - {id: two, duration: 4, continuity: continuous, action: The sea darkens.}
  - {id: three, duration: 3, action: A gull crosses the frame.}
"""


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("fake-media")


@pytest.fixture
def sora(media, project, monkeypatch):
    fake = FakeSora(media).start()
    cfg = project / "config.toml"
    cfg.write_text("[backends.openai]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    (project / "film.yaml").write_text(FILM)
    yield fake
    fake.stop()


def render(project, *extra) -> int:
    return main(["render", str(project / "film.yaml"), "--backend", "openai", "--yes", *extra])


def manifest(project) -> dict:
    return read_manifest(project / "film")


def prompts(fake) -> list[str]:
    return [j["prompt"] for j in fake.ledger.jobs]


def test_happy_path_and_rerun_pays_nothing(sora, project, capsys):
    assert render(project) == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.seconds_billed == 12
    by_prompt = {j["prompt"].split("Actions:")[1].strip()[:12]: j for j in sora.ledger.jobs}
    assert by_prompt["- The sea da"]["_reference"] is True  # the continuous shot uploaded the last frame
    assert by_prompt["- A calm sea"]["_reference"] is False
    man = manifest(project)
    assert [s["status"] for s in man["shots"]] == ["rendered"] * 3
    assert all(s["job_id"].startswith("video_") and s["model_reported"] == "sora-2" for s in man["shots"])
    assert man["spent"] == pytest.approx(1.2) and [s["seconds_billed"] for s in man["shots"]] == [4, 4, 4]
    out = project / "film" / "final.mp4"
    assert decodes(out) == (4 + 4 + 3) * 24  # the 4 s clip of the 3 s shot is trimmed; 30 fps conformed to 24
    assert probe(out).audio_streams == 1
    capsys.readouterr()
    assert render(project) == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 3  # nothing asked again
    assert "0 rendered, 3 from the cache, $0.00 spent" in capsys.readouterr().out


@pytest.mark.parametrize("trouble", ["lose_reply_creates", "drop_connection_creates"])
def test_lost_reply_after_the_job_was_made_is_reconciled_not_resubmitted(sora, project, trouble):
    setattr(sora.behaviour, trouble, 1)
    assert render(project) == 0
    assert len(sora.ledger.jobs) == 3  # one job per shot: the lost one was found in the job list
    assert len(set(prompts(sora))) == 3


def test_5xx_that_made_nothing_is_resubmitted_once(sora, project):
    sora.behaviour.fail_5xx_creates = 1
    assert render(project) == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 4


def test_rate_limit_with_retry_after(sora, project):
    sora.behaviour.rate_limit_creates = 2
    assert render(project, "--concurrency", "1") == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 5


def test_moderation_failure_blocks_one_shot_only(sora, project, capsys):
    sora.behaviour.moderate_prompts = ("gull",)
    assert render(project) == 1
    err = capsys.readouterr().err
    assert "three: blocked" in err and "moderation_blocked" in err
    man = manifest(project)
    assert [s["status"] for s in man["shots"]] == ["rendered", "rendered", "blocked"]
    assert man["spent"] == pytest.approx(1.2)  # a failed job counts as spent
    assert decodes(project / "film" / "final.mp4") == 11 * 24  # a slate keeps its place
    from storyboard.cache import Cache
    (failure,) = (Cache().root / "failures").glob("*.json")  # recorded apart, never served as a clip
    assert json.loads(failure.read_text())["code"] == "moderation_blocked"


def test_refused_at_create_is_blocked_and_not_charged(sora, project, capsys):
    sora.behaviour.reject_prompts = ("gull",)
    assert render(project) == 1
    man = manifest(project)
    assert man["shots"][2]["status"] == "blocked" and man["spent"] == pytest.approx(0.8)
    assert "[input: prompt]" in capsys.readouterr().err


def test_quota_stops_the_run(sora, project, capsys):
    sora.behaviour.quota = True
    assert render(project) == 5
    assert not sora.ledger.jobs
    assert "quota" in capsys.readouterr().err


def test_budget_is_never_exceeded(sora, project, capsys):
    assert render(project, "--max-cost", "0.5", "--concurrency", "1") == 4
    assert len(sora.ledger.jobs) == 1 and sora.ledger.seconds_billed * 0.10 <= 0.5
    man = manifest(project)
    assert man["spent"] <= 0.5
    assert "would pass --max-cost $0.50" in capsys.readouterr().err


def test_expired_download(sora, project, capsys):
    sora.behaviour.expire_downloads = True
    assert render(project) == 1
    assert "expired" in capsys.readouterr().err


def test_unclear_create_with_an_unreadable_list_stops_then_reconciles(sora, project):
    sora.behaviour.lose_reply_creates = 1
    sora.behaviour.list_fails = True
    assert render(project, "--concurrency", "1") == 7  # ambiguous: not resubmitted blindly
    made = len(sora.ledger.jobs)
    sora.behaviour.list_fails = False
    assert render(project, "--concurrency", "1") == 0
    assert len(sora.ledger.jobs) == 3 and made >= 1  # the unclear job was found, not made again


def test_long_shot_uses_an_extension(sora, project):
    (project / "film.yaml").write_text("version: 1\nshots:\n  - {id: long, duration: 14, action: A long tide.}\n")
    assert render(project) == 0
    kinds = [(j["added_seconds"], j["remixed_from_video_id"] is not None) for j in sora.ledger.jobs]
    assert kinds == [(12.0, False), (4.0, True)]
    assert decodes(project / "film" / "final.mp4") == 14 * 24
    assert manifest(project)["spent"] == pytest.approx(1.6)


def test_cameo_becomes_one_character_reused_across_episodes(sora, project):
    from tests.media import make_clip
    make_clip(project / "ana.mp4", 3)
    for ep in ("ep1", "ep2"):
        (project / f"{ep}.yaml").write_text(
            "version: 1\ncharacters:\n  ana: {name: Ana, description: a woman, cameo: ana.mp4}\n"
            f"shots:\n  - {{id: {ep}, duration: 4, characters: [ana], action: Ana in {ep}.}}\n")
        assert main(["render", str(project / f"{ep}.yaml"), "--backend", "sora", "--yes"]) == 0
    assert len(sora.ledger.characters) == 1 and sora.ledger.characters[0]["name"] == "Ana"
    assert all(j["_characters"] for j in sora.ledger.jobs)
    assert all("Ana, a woman" in j["prompt"] for j in sora.ledger.jobs)  # the name, verbatim


def test_no_key_is_a_clear_error(sora, project, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    assert render(project) == 2
    assert "needs OPENAI_API_KEY" in capsys.readouterr().err


def test_secrets_are_never_written(sora, project):
    from storyboard.cache import Cache
    assert render(project) == 0
    for root in (project, Cache().root):
        for f in root.rglob("*"):
            if f.is_file() and f.suffix in (".json", ".txt", ".otio", ".edl", ".xml", ".srt", ".vtt", ""):
                assert b"test-key" not in f.read_bytes(), f


def test_killed_render_resumes_without_paying_twice(sora, project):
    sora.behaviour.latency = 1.5  # jobs take a while: the kill lands while they run
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "storyboard", "render", str(project / "film.yaml"), "--backend", "openai", "--yes"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(sora.ledger.jobs) >= 1)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    made = len(sora.ledger.jobs)
    assert 1 <= made <= 3
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert len(sora.ledger.jobs) == 3 and len(set(prompts(sora))) == 3  # re-attached, nothing paid twice
    assert decodes(project / "film" / "final.mp4") == 11 * 24


def test_ctrl_c_stops_at_once_and_resumes(sora, project):
    sora.behaviour.latency = 60  # jobs that would take a minute
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "storyboard", "render", str(project / "film.yaml"), "--backend", "openai", "--yes"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(sora.ledger.jobs) >= 2)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 130 and time.monotonic() - t < 10
    assert "interrupted; run the same command again to resume" in err and "Traceback" not in err
    sora.behaviour.latency = 0
    made = len(sora.ledger.jobs)
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=180).returncode == 0
    assert len(sora.ledger.jobs) == 3 and made >= 2  # re-attached, none paid twice
