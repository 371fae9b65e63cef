"""The backends tier: fake providers on 127.0.0.1 driven through the real SDKs by
`storyboard.render_shots`, with an injected clock and sleep (no real back-off is waited out), and
no cut."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

import storyboard
from tests.fakes.sora import FakeSora
from tests.fakes.vertex import FakeVertex


class FakeClock:
    """Wall-clock time that moves only when slept. It starts at the real time, because providers
    stamp jobs with theirs and a lookup compares the two."""

    def __init__(self):
        self.now = time.time()
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Run:
    """One render_shots call and what a user would read of it."""

    prep: storyboard.Prepared
    rendered: storyboard.Rendered
    clock: FakeClock

    @property
    def outcomes(self) -> dict:
        return self.rendered.outcomes

    @property
    def status(self) -> int:
        """The exit status `storyboard render` gives this result (cli.EXIT_CODES)."""
        from storyboard.cli import DONE, INCOMPLETE, exit_code
        if self.rendered.stop is not None:
            return exit_code(self.rendered.stop)
        return DONE if self.rendered.complete else INCOMPLETE

    @cached_property
    def manifest(self) -> dict:
        from storyboard import cutting
        return cutting.manifest(self.prep.loaded, self.prep.caps.name, self.rendered.outcomes, self.rendered.spent)


def render(path: Path, backend: str, **kw) -> Run:
    """Render a storyboard's shots (no cut), saying yes to the spend, waiting on a fake clock."""
    clock = kw.pop("clock", None) or FakeClock()
    prep = storyboard.compile(storyboard.load(path), backend)
    rendered = storyboard.render_shots(prep, confirm=lambda plan: True, clock=clock, sleep=clock.sleep, **kw)
    return Run(prep, rendered, clock)


@pytest.fixture(scope="session")
def sora_media(fake_media):
    return fake_media


@pytest.fixture(scope="session")
def veo_media(fake_media):
    return fake_media


@pytest.fixture
def sora(sora_media, project, monkeypatch):
    """The fake Videos API, with the environment and config that point the openai backend at it."""
    fake = FakeSora(sora_media).start()
    cfg = project / "config.toml"
    cfg.write_text("[backends.openai]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.stop()


@pytest.fixture
def veo(veo_media, project, monkeypatch, tmp_path):
    """The fake Vertex AI (Veo 3.1 GA), with the environment and config that point the vertex backend
    (alias veo) at it: a project, and application default credentials whose token the fake gives."""
    fake = FakeVertex(veo_media)
    cfg = project / "config.toml"
    cfg.write_text("[backends.vertex]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.adc_file(tmp_path)))
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", fake.url + "/")
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):  # a key in the environment must not pull the SDK off Vertex
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.stop()
