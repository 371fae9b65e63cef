"""The Sora 2 protocol backend through the real openai SDK against a fake Videos API on 127.0.0.1,
driven by storyboard.render_shots on a fake clock (no cut, no real back-off): jobs, cache, lost
replies, rate limits, blocked shots, budgets, quota, characters, secrets. The same through the
command line, with the cut and killed processes, is tests/integration/test_money.py."""

from __future__ import annotations

import json

import pytest

import storyboard
from storyboard.media.probe import decodes, probe
from storyboard.store.cache import Cache
from tests.backends.conftest import render

FILM = """
version: 1
title: Sea
shots:
  - {id: one, duration: 4, action: A calm sea at dawn.}
  - {id: two, duration: 4, continuity: continuous, action: The sea darkens.}
  - {id: three, duration: 3, action: A gull crosses the frame.}
"""


@pytest.fixture
def film(sora, project):
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


def prompts(fake) -> list[str]:
    return [j["prompt"] for j in fake.ledger.jobs]


def test_happy_path_and_rerun_pays_nothing(sora, film, monkeypatch):
    run = render(film, "openai")
    assert run.status == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.seconds_billed == 12
    by_prompt = {j["prompt"].split("Actions:")[1].strip()[:12]: j for j in sora.ledger.jobs}
    assert by_prompt["- The sea da"]["_reference"] is True  # the continuous shot uploaded the last frame
    assert by_prompt["- A calm sea"]["_reference"] is False
    man = run.manifest
    assert [s["status"] for s in man["shots"]] == ["rendered"] * 3
    assert all(s["job_id"].startswith("video_") and s["model_reported"] == "sora-2" for s in man["shots"])
    assert man["spent"] == pytest.approx(1.2) and [s["seconds_billed"] for s in man["shots"]] == [4, 4, 4]
    for o in run.outcomes.values():  # each clip as the provider made it: 4 s at 30 fps, with sound
        assert decodes(o.entry.clip) == o.meta["frames"] == 120 and probe(o.entry.clip).audio_streams == 1
    from storyboard.backends import base
    made = []
    monkeypatch.setattr(base, "create", lambda *a, **k: made.append(a))
    again = render(film, "openai")
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 3  # nothing asked again
    assert [o.status for o in again.outcomes.values()] == ["cached"] * 3 and again.rendered.spent == 0
    assert made == []  # nor was the SDK's client built: the cache served every shot


@pytest.mark.parametrize("trouble", ["lose_reply_creates", "drop_connection_creates"])
def test_lost_reply_after_the_job_was_made_is_reconciled_not_resubmitted(sora, film, trouble):
    setattr(sora.behaviour, trouble, 1)
    assert render(film, "openai").status == 0
    assert len(sora.ledger.jobs) == 3  # one job per shot: the lost one was found in the job list
    assert len(set(prompts(sora))) == 3


def test_5xx_that_made_nothing_is_resubmitted_once(sora, film):
    sora.behaviour.fail_5xx_creates = 1
    assert render(film, "openai").status == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 4


def test_rate_limit_with_retry_after(sora, film):
    sora.behaviour.rate_limit_creates = 2
    run = render(film, "openai", concurrency=1)
    assert run.status == 0
    assert len(sora.ledger.jobs) == 3 and sora.ledger.creates == 5
    assert run.clock.slept.count(0.05) == 2  # the provider's Retry-After, waited on the injected clock


def test_moderation_failure_blocks_one_shot_only(sora, film):
    sora.behaviour.moderate_prompts = ("gull",)
    run = render(film, "openai")
    assert run.status == 1
    three = run.outcomes["three"]
    assert three.status == "blocked" and "moderation_blocked" in three.reason
    man = run.manifest
    assert [s["status"] for s in man["shots"]] == ["rendered", "rendered", "blocked"]
    assert man["spent"] == pytest.approx(1.2)  # a failed job counts as spent
    assert three.entry is None and run.outcomes["two"].entry is not None  # the cut gets a slate in its place
    (failure,) = (Cache().root / "failures").glob("*.json")  # recorded apart, never served as a clip
    assert json.loads(failure.read_text())["code"] == "moderation_blocked"


def test_refused_at_create_is_blocked_and_not_charged(sora, film):
    sora.behaviour.reject_prompts = ("gull",)
    run = render(film, "openai")
    assert run.status == 1
    man = run.manifest
    assert man["shots"][2]["status"] == "blocked" and man["spent"] == pytest.approx(0.8)
    assert "[input: prompt]" in run.outcomes["three"].reason


def test_quota_stops_the_run(sora, film):
    sora.behaviour.quota = True
    run = render(film, "openai")
    assert run.status == 5
    assert not sora.ledger.jobs
    assert "quota" in str(run.rendered.stop)


def test_budget_is_never_exceeded(sora, film):
    run = render(film, "openai", max_cost=0.5, concurrency=1)
    assert run.status == 4
    assert len(sora.ledger.jobs) == 1 and sora.ledger.seconds_billed * 0.10 <= 0.5
    assert run.manifest["spent"] <= 0.5
    assert "would pass --max-cost $0.50" in run.outcomes["three"].reason


def test_expired_download(sora, film):
    sora.behaviour.expire_downloads = True
    run = render(film, "openai")
    assert run.status == 1
    assert "expired" in run.outcomes["one"].reason


def test_unclear_create_with_an_unreadable_list_stops_then_reconciles(sora, film):
    sora.behaviour.lose_reply_creates = 1
    sora.behaviour.list_fails = True
    first = render(film, "openai", concurrency=1)
    assert first.status == 7  # ambiguous: not resubmitted blindly
    assert sum(first.clock.slept) >= 9  # the list was retried with back-off, on the injected clock
    made = len(sora.ledger.jobs)
    sora.behaviour.list_fails = False
    assert render(film, "openai", concurrency=1).status == 0
    assert len(sora.ledger.jobs) == 3 and made >= 1  # the unclear job was found, not made again


def test_long_shot_uses_an_extension(sora, project):
    (project / "film.yaml").write_text("version: 1\nshots:\n  - {id: long, duration: 14, action: A long tide.}\n")
    run = render(project / "film.yaml", "openai")
    assert run.status == 0
    kinds = [(j["added_seconds"], j["remixed_from_video_id"] is not None) for j in sora.ledger.jobs]
    assert kinds == [(12.0, False), (4.0, True)]
    assert decodes(run.outcomes["long"].entry.clip) == 16 * 30  # base and extension: enough for 14 s
    assert run.manifest["spent"] == pytest.approx(1.6)


def test_cameo_becomes_one_character_reused_across_episodes(sora, project):
    from tests.media import make_clip
    make_clip(project / "ana.mp4", 3)
    for ep in ("ep1", "ep2"):
        (project / f"{ep}.yaml").write_text(
            "version: 1\ncharacters:\n  ana: {name: Ana, description: a woman, cameo: ana.mp4}\n"
            f"shots:\n  - {{id: {ep}, duration: 4, characters: [ana], action: Ana in {ep}.}}\n")
        assert render(project / f"{ep}.yaml", "sora").status == 0
    assert len(sora.ledger.characters) == 1 and sora.ledger.characters[0]["name"] == "Ana"
    assert all(j["_characters"] for j in sora.ledger.jobs)
    assert all("Ana, a woman" in j["prompt"] for j in sora.ledger.jobs)  # the name, verbatim


def test_no_key_is_a_clear_error(sora, film, monkeypatch):
    from storyboard.cli import exit_code
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(storyboard.UsageError, match="needs OPENAI_API_KEY") as e:
        render(film, "openai")
    assert exit_code(e.value) == 2


def test_secrets_are_never_written(sora, film):
    run = render(film, "openai")
    assert run.status == 0
    assert "test-key" not in json.dumps(run.manifest)
    for root in (film.parent, Cache().root):
        for f in root.rglob("*"):
            if f.is_file() and f.suffix in (".json", ".txt", ".otio", ".edl", ".xml", ".srt", ".vtt", ""):
                assert b"test-key" not in f.read_bytes(), f
