"""The backend registry: code named by the capability table, lazy imports, clear messages."""

from __future__ import annotations

import pytest

from storyboard import catalog as capabilities
from storyboard.backends.registry import backend_class
from storyboard.errors import UsageError


def _config(project, monkeypatch, text):
    (project / "config.toml").write_text(text)
    monkeypatch.setenv("STORYBOARD_CONFIG", str(project / "config.toml"))


def test_builtins_are_found_by_their_table():
    from storyboard.animatic.backend import AnimaticBackend
    assert backend_class("animatic") is AnimaticBackend
    assert backend_class("sora").__name__ == "OpenAIVideos"  # aliases resolve to their table


def test_a_missing_package_disables_only_its_backend(project, monkeypatch):
    _config(project, monkeypatch, '[backends.acme]\ncode = "acme_video_sdk_not_installed.backend:Acme"\n'
                                  'default_model = "m"\n[backends.acme.models.m]\ndurations = [5]\nsizes = ["1280x720"]\n')
    with pytest.raises(UsageError, match="acme backend cannot be used: its Python package "
                                         "acme_video_sdk_not_installed is not installed"):
        backend_class("acme")
    assert backend_class("animatic").__name__ == "AnimaticBackend"
    assert "acme" in capabilities.table()


def test_a_table_without_code_says_what_is_missing(project, monkeypatch):
    _config(project, monkeypatch, '[backends.bare]\ndefault_model = "m"\n'
                                  '[backends.bare.models.m]\ndurations = [5]\nsizes = ["1280x720"]\n')
    with pytest.raises(UsageError, match="no code is registered"):
        backend_class("bare")


def test_capability_flags_say_what_they_mean():
    anim, sora = capabilities.get("animatic"), capabilities.get("openai")
    assert anim.exact_duration and anim.draws_references and anim.any_model
    assert not (sora.exact_duration or sora.draws_references or sora.any_model)
    assert sora.models["sora-2"].makes_sound
