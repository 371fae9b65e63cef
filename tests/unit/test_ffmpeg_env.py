"""No credential a backend reads reaches ffmpeg's environment: the names come from the backends'
tables (`env`), shipped, plugged in or in the user's config (issue 22, item 4)."""

from __future__ import annotations

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
    cmd = ffmpeg.Command(("-f", "lavfi", "-i", "anullsrc", "-t", "30", "-f", "null", "-"), "waiting", 60)
    with ffmpeg.Running(cmd) as running:
        environ = Path(f"/proc/{running.proc.pid}/environ")
        if not environ.exists():
            pytest.skip("no /proc here")
        assert b"FAL_KEY" not in environ.read_bytes() and b"PATH=" in environ.read_bytes()
