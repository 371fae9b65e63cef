"""No credential a backend reads reaches ffmpeg's environment: the names come from the backends'
tables (`env`), shipped, plugged in or in the user's config (issue 22, item 4)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from storyboard.media import ffmpeg


def test_every_backend_credential_is_kept_from_ffmpeg(monkeypatch, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[backends.mygate]\ncode = "mygate:Backend"\ndescription = "a gateway"\ndefault_model = "m"\n'
                   'models = {}\nenv = ["MYGATE_TOKEN"]\n')
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    for name in ("FAL_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "MYGATE_TOKEN"):
        monkeypatch.setenv(name, "sekrit")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = ffmpeg._env()
    assert "sekrit" not in env.values() and env["LANG"] == "C.UTF-8"


def test_ffmpeg_really_runs_without_them(monkeypatch, tmp_path):
    """The environment a running ffmpeg was given (read back from /proc on Linux)."""
    monkeypatch.setenv("FAL_KEY", "sekrit")
    cmd = ffmpeg.Command(("-re", "-f", "lavfi", "-i", "anullsrc", "-t", "30", "-f", "null", "-"), "waiting", 60)  # -re: runs 30 s
    with ffmpeg.Running(cmd) as running:
        environ = Path(f"/proc/{running.proc.pid}/environ")
        if not environ.exists():
            pytest.skip("no /proc here")
        # until the child has exec'd ffmpeg, /proc shows the parent's environment; while the exec
        # replaces its memory, an empty one
        deadline = time.monotonic() + 20
        seen = b""
        while time.monotonic() < deadline:
            seen = environ.read_bytes()
            if seen and "ffmpeg" in os.readlink(f"/proc/{running.proc.pid}/exe"):
                break
            time.sleep(0.01)
        assert running.proc.poll() is None, "ffmpeg ended before its environment was read"
        assert b"FAL_KEY" not in seen and b"PATH=" in seen
