"""Shared fixtures: an isolated cache and config for every test, and the example paths."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def read_manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / "manifest.json").read_text())


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll until `condition()` holds (a fake's ledger filling up, say), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No test reads the user's config or cache, or a real API key."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STORYBOARD_CACHE", str(home / "cache"))
    monkeypatch.setenv("STORYBOARD_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))  # crash logs (platformdirs' user_log_dir)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY", "FAL_KEY", "FAL_RUN_HOST",
                "FAL_QUEUE_RUN_HOST", "STORYBOARD_FAL_PLATFORM_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def project(tmp_path):
    """An empty project folder (marked with .storyboard) to write storyboards into."""
    (tmp_path / ".storyboard").write_text("")
    return tmp_path


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


def pytest_collection_modifyitems(config, items):
    """The tier is the folder: tests/unit, tests/backends, tests/integration (select with -m)."""
    for item in items:
        parts = item.path.parts
        for tier in ("unit", "backends", "integration"):
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))
