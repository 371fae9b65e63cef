"""What each backend and model can do, as data: durations, sizes, references, audio, price."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from storyboard.common import deep_merge
from storyboard.errors import UsageError
from storyboard.model.caps import BackendCaps, ModelCaps
from storyboard.model.vocab import unknown


def config_path() -> Path:
    env = os.environ.get("STORYBOARD_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir
    return Path(user_config_dir("storyboard")) / "config.toml"


@lru_cache(maxsize=8)
def _table(path_str: str, mtime: float) -> dict[str, BackendCaps]:
    raw = tomllib.loads(resources.files("storyboard").joinpath("data/backends.toml").read_text("utf-8"))
    user: dict = {}
    if path_str:
        try:
            user = tomllib.loads(Path(path_str).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise UsageError(f"{path_str}: cannot read the config file: {e}") from None
    merged = deep_merge(deep_merge(raw, plugin_tables()), user, whole=("price",))
    out: dict[str, BackendCaps] = {}
    for name, spec in merged.get("backends", {}).items():
        try:
            out[name] = BackendCaps(name=name, **spec)
        except (ValidationError, TypeError) as e:
            raise UsageError(f"{path_str or 'backends.toml'}: [backends.{name}] is not valid: {e}") from None
    return out


def table() -> dict[str, BackendCaps]:
    """Every backend's capabilities: the shipped table with the user's config on top."""
    p = config_path()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        return _table("", 0.0)
    return _table(str(p), mtime)


def user_config() -> dict:
    """The user's whole config file (e.g. `[render] backend = ...`), or {}."""
    p = config_path()
    try:
        return tomllib.loads(p.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def get(name: str) -> BackendCaps:
    t = table()
    for caps in t.values():
        if name == caps.name or name in caps.aliases:
            return caps
    names = list(t) + [a for c in t.values() for a in c.aliases]
    raise UsageError(unknown("backend", name, names))


def known_models() -> dict[str, ModelCaps]:
    """Every model a backend really makes (the vocabulary `validate` accepts), by name; a backend
    that stands in for any model adds none."""
    out: dict[str, ModelCaps] = {}
    for caps in table().values():
        if caps.any_model:
            continue
        out.update(caps.models)
    return out


def plugin_tables() -> dict:
    """Capability tables shipped by third-party backends (entry point group
    `storyboard.capabilities`, each loading to a dict shaped like backends.toml)."""
    from importlib.metadata import entry_points
    out: dict = {}
    for ep in entry_points(group="storyboard.capabilities"):
        try:
            tables = ep.load()
        except Exception:  # noqa: BLE001 - a broken plugin disables itself, not the tool
            continue
        if isinstance(tables, dict):
            out = deep_merge(out, {"backends": tables.get("backends", tables)})
    return out
