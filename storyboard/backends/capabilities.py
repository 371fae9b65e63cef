"""What each backend and model can do, as data: durations, sizes, references, audio, price."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyboard.errors import UsageError
from storyboard.model.vocab import unknown


class ModelCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    durations: list[float] = Field(description="clip lengths one job makes; empty with any_duration")
    extension_durations: list[float] = []
    sizes: list[str]
    image_reference: bool = False
    last_frame: bool = False
    characters: bool = False
    max_characters: int = 0
    reference_images: int = 0
    negative_prompt: bool = False
    native_audio: bool = False
    prompt_max_chars: int = 4000
    price: dict[str, float] = {"*": 0.0}
    params: dict[str, Any] = {}  # backend-specific request settings (endpoint ids, field names), read only by that backend

    def price_per_second(self, size: str) -> float:
        return self.price.get(size, self.price.get("*", 0.0))


class BackendCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    aliases: list[str] = []
    default_model: str
    concurrency: int = 2
    env: list[str] = []
    any_duration: bool = False
    any_size: bool = False
    any_model: bool = False
    poll_seconds: float = 5.0  # between status checks of a remote job
    job_timeout_seconds: float = 3600.0  # a job not finished by then is given up (and re-attached next run)
    submit_attempts: int = 5  # creates retried only when the provider surely made nothing (429, reconciled)
    models: dict[str, ModelCaps]

    @property
    def paid(self) -> bool:
        return any(p > 0 for m in self.models.values() for p in m.price.values())

    def model(self, name: str) -> tuple[str, ModelCaps, str]:
        """(model used, its caps, a warning) for a storyboard's model name."""
        if name in self.models:
            return name, self.models[name], ""
        if self.any_model:
            return name, self.models[self.default_model], ""
        used = self.default_model
        return used, self.models[used], (f"model {name!r} is not one {self.name} makes; using {used!r} "
                                          f"(models: {', '.join(self.models)})")


@dataclass(frozen=True)
class Segments:
    """How a shot's seconds are asked of a backend: one job, then extensions; trimmed to the shot."""

    base: float
    extensions: tuple[float, ...] = ()

    @property
    def seconds(self) -> float:
        return self.base + sum(self.extensions)


def segments_for(duration: float, caps: ModelCaps, any_duration: bool = False) -> Segments:
    """The next length the model can make at or above `duration`; extensions past its longest job."""
    if any_duration or not caps.durations:
        return Segments(duration)
    fitting = [d for d in sorted(caps.durations) if d >= duration - 1e-9]
    if fitting:
        return Segments(fitting[0])
    base = max(caps.durations)
    rest = duration - base
    if not caps.extension_durations:
        return Segments(base)  # the checks warn: the shot will be shorter than written
    exts: list[float] = []
    longest = max(caps.extension_durations)
    while rest > 1e-9:
        fit = [d for d in sorted(caps.extension_durations) if d >= rest - 1e-9]
        step = fit[0] if fit else longest
        exts.append(step)
        rest -= step
    return Segments(base, tuple(exts))


def cost(segments: Segments, caps: ModelCaps, size: str) -> float:
    return round(segments.seconds * caps.price_per_second(size), 4)


def config_path() -> Path:
    env = os.environ.get("STORYBOARD_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir
    return Path(user_config_dir("storyboard")) / "config.toml"


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) and k != "price" else v
    return out


@lru_cache(maxsize=8)
def _table(path_str: str, mtime: float) -> dict[str, BackendCaps]:
    raw = tomllib.loads(resources.files("storyboard").joinpath("data/backends.toml").read_text("utf-8"))
    user: dict = {}
    if path_str:
        try:
            user = tomllib.loads(Path(path_str).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise UsageError(f"{path_str}: cannot read the config file: {e}") from None
    merged = _merge(raw, user)
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
    """Every model of every paid backend (the vocabulary `validate` accepts), by name."""
    out: dict[str, ModelCaps] = {}
    for caps in table().values():
        if caps.any_size:
            continue
        out.update(caps.models)
    return out
