"""Every remote backend, each behind its real SDK and its fake on 127.0.0.1 (tests/fakes), as one
parametrized fixture: the contract suite runs against all of them. A new backend adds its fake and
an entry in PROVIDERS."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.fakes.base import FakeServer

REPORT_ENV = "STORYBOARD_CONTRACT_REPORT"  # a file the suite appends its figures to (bench/providers.py reads it)


@dataclass
class Provider:
    backend: str
    model: str
    price: float  # dollars per second of the film's size on this model
    fake: FakeServer
    lists_unfinished: bool  # can a lost create be found (and adopted) while it still runs?
    lists_ended: bool  # ... or once it has ended
    inline_video: bool = False  # the video comes with the finished job: no URL to expire


def _openai(tmp: Path, media: Path, monkeypatch) -> Provider:
    from tests.fakes.sora import KEY, FakeSora
    fake = FakeSora(media)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    return Provider("openai", "sora-2", 0.10, fake, lists_unfinished=True, lists_ended=True)


def _fal(tmp: Path, media: Path, monkeypatch) -> Provider:
    trustme = pytest.importorskip("trustme")
    from tests.fakes.fal import KEY, FakeFal
    ca = trustme.CA()
    fake = FakeFal(media, ca)
    cafile = tmp / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("FAL_KEY", KEY)
    monkeypatch.setenv("FAL_RUN_HOST", fake.host)
    monkeypatch.setenv("FAL_QUEUE_RUN_HOST", fake.host)
    monkeypatch.setenv("STORYBOARD_FAL_PLATFORM_URL", f"{fake.url}/v1")
    import fal_client.client as sdk
    monkeypatch.setattr(sdk, "QUEUE_URL_FORMAT", f"https://{fake.host}/")  # read once, at import
    return Provider("fal", "kling-4", 0.157, fake, lists_unfinished=False, lists_ended=True)


def _vertex(tmp: Path, media: Path, monkeypatch) -> Provider:
    from tests.fakes.vertex import FakeVertex
    fake = FakeVertex(media)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.adc_file(tmp)))
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", fake.url + "/")
    return Provider("vertex", "veo-3.1-fast-generate-001", 0.15, fake, lists_unfinished=False, lists_ended=False,
                    inline_video=True)


def _gemini(tmp: Path, media: Path, monkeypatch) -> Provider:
    from tests.fakes.gemini import KEY, FakeGemini
    fake = FakeGemini(media)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url + "/")
    return Provider("gemini", "gemini-omni-1.1-flash", 0.12, fake, lists_unfinished=False, lists_ended=False,
                    inline_video=True)


def _runway(tmp: Path, media: Path, monkeypatch) -> Provider:
    from tests.fakes.runway import KEY, FakeRunway
    fake = FakeRunway(media)
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
    return Provider("runway", "gen4.5", 0.25, fake, lists_unfinished=False, lists_ended=False)


PROVIDERS: dict[str, Callable] = {"openai": _openai, "fal": _fal, "vertex": _vertex, "gemini": _gemini,
                                  "runway": _runway}


@pytest.fixture(scope="session")
def contract_media(fake_media):
    return fake_media


@pytest.fixture(params=list(PROVIDERS))
def provider(request, contract_media, project, monkeypatch, tmp_path):
    p = PROVIDERS[request.param](tmp_path, contract_media, monkeypatch)
    cfg = project / "config.toml"
    cfg.write_text(f"[backends.{p.backend}]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    yield p
    p.fake.stop()


def report(provider: Provider, case: str, requests: int, status: int | str) -> None:
    """Record a case's figures (jobs the provider made and billed, against the requests the storyboard
    asked) when the bench asks for them."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    jobs = provider.fake.ledger.jobs
    with open(path, "a") as f:
        f.write(json.dumps({"backend": provider.backend, "case": case, "requests": requests, "jobs": len(jobs),
                            "most_per_request": max(provider.fake.ledger.per_prompt().values() or [0]),
                            "status": status}) + "\n")
