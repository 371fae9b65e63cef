"""No credential reaches a child process: every name any backend table lists in `env` (the shipped
table, a plugin's, the user's config) is kept out of ffmpeg's environment, proved on a real spawn."""

from __future__ import annotations

import stat

import pytest

from storyboard import catalog
from storyboard.media import ffmpeg

PLUGIN = {"backends": {"plug": {"code": "plug.video:Backend", "default_model": "m", "env": ["PLUGVID_LOGIN"],
                                "models": {"m": {"durations": [4], "sizes": ["1280x720"]}}}}}
USER = """
[backends.acme]
code = "acme.video:Backend"
default_model = "m"
env = ["ACME_VIDEO_ACCESS"]

[backends.acme.models.m]
durations = [4]
sizes = ["1280x720"]
"""


@pytest.fixture
def every_table(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(USER)
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    monkeypatch.setattr(catalog, "plugin_tables", lambda: PLUGIN)
    catalog._table.cache_clear()
    catalog._env_names.cache_clear()
    yield {n for caps in catalog.table().values() for n in caps.env}
    catalog._table.cache_clear()
    catalog._env_names.cache_clear()


def spawn_and_read_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Run a real ffmpeg step through media/ffmpeg.py, with a wrapper that records its environment."""
    real = ffmpeg.exe()
    dump = tmp_path / "env.txt"
    wrapper = tmp_path / "ffmpeg-wrapper"
    wrapper.write_text(f'#!/bin/sh\nenv -0 > "{dump}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(ffmpeg, "exe", lambda: str(wrapper))
    from PIL import Image

    from storyboard.media.assemble import slate_cmd
    Image.new("RGB", (64, 36), (10, 20, 30)).save(tmp_path / "in.png")
    ffmpeg.run(slate_cmd(tmp_path / "in.png", tmp_path / "out.mp4", 24, 2))
    return dict(item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item)


def test_every_tables_env_is_kept_out_of_an_ffmpeg_child(every_table, tmp_path, monkeypatch):
    names = every_table
    assert {"OPENAI_API_KEY", "FAL_KEY", "RUNWAYML_API_SECRET", "GOOGLE_CLOUD_PROJECT", "ACME_VIDEO_ACCESS",
            "PLUGVID_LOGIN"} <= names  # the shipped table, the user's config and a plugin all count
    assert names <= catalog.env_names()
    secrets = {n: f"secret-value-of-{n}" for n in names | {"GOOGLE_APPLICATION_CREDENTIALS", "GEMINI_API_KEY"}}
    for n, v in secrets.items():
        monkeypatch.setenv(n, v)
    monkeypatch.setenv("STORYBOARD_HARMLESS", "kept")
    env = spawn_and_read_env(tmp_path, monkeypatch)
    assert not set(secrets) & set(env)
    assert not [k for k, v in env.items() if "secret-value-of-" in v]
    assert env.get("STORYBOARD_HARMLESS") == "kept" and "PATH" in env  # the rest of the environment is passed


def test_a_config_that_does_not_validate_still_names_its_secrets(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[backends.broken]\nenv = ["BROKEN_VIDEO_LOGIN"]\n')  # no models: not a valid table
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    catalog._env_names.cache_clear()
    monkeypatch.setenv("BROKEN_VIDEO_LOGIN", "hunter2")
    assert "BROKEN_VIDEO_LOGIN" not in catalog.child_env()
    catalog._env_names.cache_clear()


def test_credentials_are_read_in_one_place_from_the_tables_env(monkeypatch):
    caps = catalog.get("runway")
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    with pytest.raises(catalog.UsageError, match="the runway backend needs RUNWAYML_API_SECRET in the environment"):
        catalog.credential(caps)
    monkeypatch.setenv("RUNWAYML_API_SECRET", "k")
    assert catalog.credential(caps) == ("RUNWAYML_API_SECRET", "k")
