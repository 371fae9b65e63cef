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


def test_capability_flags_not_names_decide(project, monkeypatch):
    """The compiler reads the flags: the same backend asks for another length when only its
    exact_duration flag changes in the user's config (the table's values are not re-asserted here)."""
    import storyboard
    sb = storyboard.loads("version: 1\nshots: [{id: a, duration: 2.5}]\n", project / "x.yaml")
    asked = storyboard.compile(sb, "openai").shots[0].seconds
    assert asked > 2.5 and asked in capabilities.get("openai").models["sora-2"].durations  # a length it makes
    _config(project, monkeypatch, "[backends.openai]\nexact_duration = true\n")
    assert storyboard.compile(sb, "openai").shots[0].seconds == 2.5  # exactly the shot: nothing to trim
