"""`storyboard doctor` against every fake provider through its real SDK: a working key and every model
served; a model the provider no longer serves; a key refused. Nothing is spent (no job is made)."""

from __future__ import annotations

import json

from storyboard.cli import main

# one id of each backend's table that the fake can stop serving
GONE = {"gemini": "gemini-omni-1.1-flash", "openai": "sora-2-pro", "fal": "fal-ai/kling-video/v4/image-to-video", "vertex": "veo-3.1-fast-generate-001",
        "runway": "gen4_turbo"}
GONE_MODEL = {"gemini": "gemini-omni-1.1-flash", "openai": "sora-2-pro", "fal": "kling-4", "vertex": "veo-3.1-fast-generate-001", "runway": "gen4_turbo"}


def doctor(provider, capsys) -> tuple[int, dict, str]:
    status = main(["doctor", "--backend", provider.backend, "--json"])
    captured = capsys.readouterr()
    return status, json.loads(captured.out)[0], captured.err


def test_a_working_key_and_every_model_served(provider, capsys):
    status, f, _ = doctor(provider, capsys)
    assert status == 0 and f["key"] == "works" and f["ok"]
    assert f["served"] and all(f["served"].values())
    assert not provider.fake.ledger.jobs and provider.fake.ledger.creates == 0  # nothing made, nothing paid
    if provider.backend == "vertex":
        assert f["retired"]["veo-3.1-fast-generate-preview"] == "veo-3.1-fast-generate-001"
    if provider.backend == "runway":
        assert f["balance"] == "12345 credits ($123.45)"


def test_a_model_no_longer_served_exits_3_and_names_it(provider, capsys):
    provider.fake.faults.retired_models = (GONE[provider.backend],)
    status, f, _ = doctor(provider, capsys)
    assert status == 3 and f["key"] == "works"
    assert f["served"][GONE_MODEL[provider.backend]] is False
    assert sum(1 for ok in f["served"].values() if ok is False) == 1
    assert main(["doctor", "--backend", provider.backend]) == 3
    assert f"{GONE_MODEL[provider.backend]}: no longer served" in capsys.readouterr().err


def test_a_refused_key_exits_3(provider, capsys):
    provider.fake.faults.bad_key = True
    status, f, _ = doctor(provider, capsys)
    assert status == 3 and f["key"] == "refused", f


def test_no_key_is_skipped_unless_asked(capsys, monkeypatch):
    for name in ("OPENAI_API_KEY", "FAL_KEY", "RUNWAYML_API_SECRET", "GOOGLE_CLOUD_PROJECT", "GEMINI_API_KEY",
                 "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor", "--json"]) == 0
    found = {f["backend"]: f["key"] for f in json.loads(capsys.readouterr().out)}
    assert found == {"animatic": "not needed", "openai": "not set", "vertex": "not set", "gemini": "not set",
                     "fal": "not set", "runway": "not set"}
    assert main(["doctor", "--backend", "runway"]) == 3
    assert "needs RUNWAYML_API_SECRET" in capsys.readouterr().out
