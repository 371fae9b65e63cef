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
from storyboard.model.caps import BackendCaps, Fit, ModelCaps, fit_size, ratio
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
        for name, gone in caps.retired.items():  # still accepted: rendered with the successor, with a warning
            if gone.successor in caps.models:
                out.setdefault(name, caps.models[gone.successor])
    return out


def fit_for(caps: BackendCaps, mcaps: ModelCaps, film: str) -> Fit | None:
    """What a backend's model is asked for a film's frame (any size: the film's own)."""
    return Fit(film, film) if caps.any_size else fit_size(film, mcaps.sizes)


def no_fit_message(model: str, film: str, sizes: list[str], backend: str = "") -> str:
    ratios = ", ".join(dict.fromkeys(f"{ratio(s)} ({s})" for s in sizes))
    on = f" on {backend}" if backend else ""
    return (f"{model}{on} makes no {ratio(film)} picture, so it cannot deliver {film}; it makes {ratios}: "
            "change `size` to one of those shapes, or choose another model")


def plugin_tables() -> dict:
    """Capability tables shipped by third-party backends (entry point group
    `storyboard.capabilities`, each loading to a dict shaped like backends.toml)."""
    out: dict = {}
    for ep in _capability_entry_points():
        try:
            tables = ep.load()
        except Exception:  # noqa: BLE001 - a broken plugin disables itself, not the tool
            continue
        if isinstance(tables, dict):
            out = deep_merge(out, {"backends": tables.get("backends", tables)})
    return out


@lru_cache(maxsize=None)
def _capability_entry_points() -> tuple:
    """The installed plugins' entry points, looked up once a process (a scan of every installed
    package's metadata: 15 ms, and the tables are read several times a run)."""
    from importlib.metadata import entry_points
    return tuple(entry_points(group="storyboard.capabilities"))


# -- credentials: read in one place, kept out of every child process ------------------------------

# names that hold a secret whatever table lists them (a provider's SDK reads some by itself)
SECRET_SUFFIXES = ("_API_KEY", "_API_SECRET", "_SECRET", "_TOKEN", "_KEY", "_CREDENTIALS", "_PASSWORD")
SECRET_NAMES = ("GOOGLE_APPLICATION_CREDENTIALS", "FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "RUNWAYML_API_SECRET")


def credential(caps: BackendCaps) -> tuple[str, str]:
    """(name, value) of the first of the backend's `env` names that is set: the one place a
    backend's key is read. UsageError naming them all when none is."""
    for name in caps.env:
        value = os.environ.get(name)
        if value:
            return name, value
    raise UsageError(f"the {caps.name} backend needs {' or '.join(caps.env)} in the environment; "
                     "keys are never read from a storyboard or a config file")


def env_names() -> frozenset[str]:
    """Every name any backend table lists in `env`: the shipped table, every plugin's, the user's config
    (read raw: a config that does not validate still names its secrets)."""
    p = config_path()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _env_names(str(p), mtime)


@lru_cache(maxsize=8)
def _env_names(path_str: str, mtime: float) -> frozenset[str]:
    raw = tomllib.loads(resources.files("storyboard").joinpath("data/backends.toml").read_text("utf-8"))
    merged = deep_merge(deep_merge(raw, plugin_tables()), user_config())
    names: set[str] = set()
    for spec in (merged.get("backends") or {}).values():
        if isinstance(spec, dict) and isinstance(spec.get("env"), list):
            names.update(str(n) for n in spec["env"])
    return frozenset(names)


def is_secret(name: str, listed: frozenset[str]) -> bool:
    upper = name.upper()
    return name in listed or upper in SECRET_NAMES or upper.endswith(SECRET_SUFFIXES)


def child_env(environ: "dict[str, str] | None" = None) -> dict[str, str]:
    """The environment for any process we start (ffmpeg, and whatever comes next): ours, without any
    name a backend table, plugin or user config lists in `env`, nor any name shaped like a secret."""
    src = dict(os.environ if environ is None else environ)
    listed = env_names()
    return {k: v for k, v in src.items() if not is_secret(k, listed)}
