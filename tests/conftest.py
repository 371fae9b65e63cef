"""Shared fixtures: an isolated cache and config for every test, and the example paths."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _keep_bytecode() -> None:
    """With PYTHONDONTWRITEBYTECODE set (as on some machines and CI images), every process of the run
    compiled the storyboard package and the tests anew (pytest's assertion rewriting too): each
    `storyboard` process a test starts paid 0.2 s more, the whole run 12 CPU-s (227 -> 215). The run's
    processes write their __pycache__ folders (git ignores them), as Python does by default. (Not a
    PYTHONPYCACHEPREFIX: that would compile every library again, ignoring the ones pip compiled.)"""
    import sys
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        sys.dont_write_bytecode = False


_keep_bytecode()


SMALL = "320x180"  # a film's frame where its size is not what a test is about: a sixteenth of 1280x720's pixels


def small_copy(src: Path, dst: Path) -> Path:
    """A copy of a folder of storyboards (an example) whose films are SMALL instead of 1280x720: for
    the tests whose point is not the picture's size. Outputs in the folder are left behind."""
    shutil.copytree(src, dst, ignore=lambda d, names: [n for n in names if (Path(d) / n).is_dir()])
    for f in dst.glob("*.yaml"):
        f.write_text(f.read_text("utf-8").replace("size: 1280x720", f"size: {SMALL}"), "utf-8")
    return dst


def read_manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / "manifest.json").read_text())


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll until `condition()` holds (a fake's ledger filling up, say), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _run_folder(tmp_path_factory) -> Path:
    """The folder every xdist worker's temporary folders sit in: shared by the whole test run."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _isolate(mp: pytest.MonkeyPatch, home: Path, tmp_path_factory) -> None:
    mp.setenv("STORYBOARD_CACHE", str(home / "cache"))
    mp.setenv("STORYBOARD_VOICE_CACHE", str(_run_folder(tmp_path_factory) / "shared-voice-lines"))
    mp.setenv("STORYBOARD_CONFIG", str(home / "config.toml"))
    mp.setenv("XDG_STATE_HOME", str(home / "state"))  # crash logs (platformdirs' user_log_dir)
    mp.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))  # the default cache folder, were anything to miss the above
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY", "FAL_KEY", "FAL_RUN_HOST",
                "FAL_QUEUE_RUN_HOST", "STORYBOARD_FAL_PLATFORM_URL", "RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL",
                "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_APPLICATION_CREDENTIALS",
                "GOOGLE_VERTEX_BASE_URL", "GOOGLE_GEMINI_BASE_URL"):
        mp.delenv(var, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory):
    """The same isolation for the whole session, so a module's shared film or room (made before any
    test's own fixtures) never reads or writes the user's cache, voices or config either."""
    mp = pytest.MonkeyPatch()
    _isolate(mp, tmp_path_factory.mktemp("session-home"), tmp_path_factory)
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No test reads the user's config or cache, or a real API key. The voiced lines (the animatic's
    scratch voices, the same samples whoever voices them) are shared by the whole run: a test that
    is about voicing itself asks for `fresh_voices`."""
    _isolate(monkeypatch, tmp_path_factory.mktemp("home"), tmp_path_factory)


@pytest.fixture
def fresh_voices(tmp_path, monkeypatch) -> Path:
    """An empty line store of this test's own: every line it asks for is voiced."""
    monkeypatch.setenv("STORYBOARD_VOICE_CACHE", str(tmp_path / "voice-lines"))
    return tmp_path / "voice-lines"


@pytest.fixture
def project(tmp_path):
    """An empty project folder (marked with .storyboard) to write storyboards into."""
    (tmp_path / ".storyboard").write_text("")
    return tmp_path


def pytest_configure(config):
    """A shell starts a background job (`pytest ... &`, some CI runners) with SIGINT ignored, and a
    child inherits an ignored signal: the storyboard processes the Ctrl-C tests interrupt would not
    hear it (Python installs its KeyboardInterrupt only over the default). A handled signal is reset
    to the default in a child, so handling it here gives them Ctrl-C as from a terminal."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_GroupsHold(), "storyboard-groups-hold")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")
    parser.addoption("--slow", action="store_true",
                     help="also run the slow end-to-end tests (@pytest.mark.slow); CI (CI=true) always runs them")


def pytest_collection_modifyitems(config, items):
    """The tier is the folder: tests/unit, tests/backends, tests/integration (select with -m). A test
    marked slow runs in CI, or with --slow; a developer's run skips it and says so. Slow is for the
    end-to-end runs of whole `storyboard` processes that are killed, interrupted or run two at once
    (each pays every process's start and a provider's latency), a real browser's longest runs, a whole
    example film, a Dask cluster, a bench's run; and the dearest few (4 s and more) whose every step a
    quicker sibling also takes in the developer's run (a second lost reply, a second damage, five films' loudness where
    the cut's tests measure one, the retakes by drift beside the film whose drift is shown, a second
    cut of the 1280x720 animatic film). What they guard is also tested in-process in the developer's
    run; CI runs them all."""
    run_slow = config.getoption("--slow") or os.environ.get("CI", "").lower() in ("1", "true", "yes")
    later = pytest.mark.skip(reason="slow end-to-end test: CI runs it (CI=true), or pass --slow")
    for item in items:
        parts = item.path.parts
        for tier in ("unit", "backends", "integration"):
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))
        if not run_slow and item.get_closest_marker("slow"):
            item.add_marker(later)


class _GroupsHold:
    """xdist's loadgroup keeps a module's shared film or review room on one worker by suffixing the
    node ids of its tests; pytest 9.2 ignores that suffix (pytest-dev/pytest-xdist#1386), and the
    groups were spread without a word, every worker making the module's film again. Said, not silent."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        if not config.getvalue("loadgroup"):
            return
        lost = [i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
        if lost:
            import warnings
            warnings.warn(pytest.PytestWarning(
                f"--dist loadgroup did not group {len(lost)} tests (e.g. {lost[0]}): each worker makes their "
                "shared films again; pytest 9.2 with this pytest-xdist does this (pytest-dev/pytest-xdist#1386), "
                "see the pin in pyproject.toml"))


# -- expensive results made once per test run and shared, read-only, by every xdist worker ----------

@contextlib.contextmanager
def _held(lock: Path):
    import fcntl
    with open(lock, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # blocks: the other workers wait for the one making it
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def made_once(tmp_path_factory):
    """made_once(name, make) -> the folder `make(folder)` filled, made by the first worker that asks and
    shared by the rest of this run (the folder all xdist workers' temporary folders sit in). Its files
    are read-only: a test copies what it changes (see copy_of)."""
    root = _run_folder(tmp_path_factory)

    def get(name: str, make: Callable[[Path], None]) -> Path:
        folder = root / f"shared-{name}"
        with _held(root / f"shared-{name}.lock"):
            if not (folder / ".made").exists():
                if folder.exists():
                    shutil.rmtree(folder)  # a worker that died while making it
                folder.mkdir()
                make(folder)
                for p in folder.rglob("*"):
                    if p.is_file() and not p.is_symlink():
                        p.chmod(p.stat().st_mode & ~0o222)
                (folder / ".made").write_text("")
        return folder
    return get


@pytest.fixture(scope="session")
def fake_media(tmp_path_factory) -> Path:
    """One folder for the fake providers' clips, shared by every fake, test module and xdist worker of
    the run: each clip (length, size, fps, tone) is encoded once (tests/media.ClipStore locks it)."""
    folder = _run_folder(tmp_path_factory) / "shared-fake-media"
    folder.mkdir(exist_ok=True)
    return folder


def copy_of(shared: Path, into: Path) -> Path:
    """A writable copy of a shared folder (made_once) in a test's own folder: the write bits the
    user's umask gives back, as if the files had been written here."""
    shutil.copytree(shared, into, dirs_exist_ok=True, symlinks=True,
                    ignore=shutil.ignore_patterns(".made"))
    umask = os.umask(0)
    os.umask(umask)
    for p in into.rglob("*"):
        if p.is_file() and not p.is_symlink():
            p.chmod(p.stat().st_mode | (0o222 & ~umask))
    return into
