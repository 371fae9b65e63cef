"""What each backend and model can do, as data: durations, sizes, references, audio, price."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyboard.common import deep_merge
from storyboard.errors import UsageError
from storyboard.model.storyboard import dimensions
from storyboard.model.vocab import unknown

ASPECT_TOLERANCE = 0.04  # a size whose aspect differs by up to 4% is the same shape: conformed by a small crop


class ModelCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    durations: list[float] = Field(description="clip lengths one job makes; empty with exact_duration")
    extension_durations: list[float] = []
    sizes: list[str]
    image_reference: bool = False  # takes a first frame (a continuous shot's, or a reference still)
    characters: bool = False  # native characters made from cameo videos
    max_characters: int = 0
    reference_images: int = 0  # subject reference images per job
    keyframes: int = 0  # images between the first and last frame one job follows (0: none)
    negative_prompt: bool = False
    makes_sound: bool = False  # the clip has its own sound; a silent clip is then worth a warning
    prompt_max_chars: int = 4000
    price: dict[str, float] = {"*": 0.0}
    params: dict[str, Any] = {}  # backend-specific request settings (endpoint ids, field names), read only by that backend
    # what the pre-spend check refuses before any money moves (table data; see checks.pre_spend)
    needs_first_frame: bool = False  # image to video only: a shot without a first frame cannot be made
    refuses_faces: bool = False  # the provider refuses a photoreal face in the first frame (after payment)
    max_seconds: float = 0.0  # the longest clip one job makes when `durations` is a range (0: from durations)
    # where the row's facts come from, and when they were read
    source: str = ""
    read: str = ""  # YYYY-MM-DD

    def price_per_second(self, size: str) -> float:
        return self.price.get(size, self.price.get("*", 0.0))


class Retired(BaseModel):
    """A model id the provider no longer serves: storyboards naming it render with `successor`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    successor: str
    since: str = ""  # YYYY-MM-DD the provider stopped serving it
    source: str = ""


class BackendCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    code: str = ""  # "package.module:Class" that renders for this backend (else an entry point of the name)
    description: str = ""
    aliases: list[str] = []
    default_model: str
    concurrency: int = 2
    env: list[str] = []  # the credentials it reads from the environment (one of them), shown by `models`
    exact_duration: bool = False  # makes a clip of exactly the shot's length: nothing is trimmed
    any_size: bool = False  # makes any frame size
    any_model: bool = False  # stands in for whatever model the storyboard names
    draws_references: bool = False  # every reference is drawn into the picture; none is sent as a first frame
    poll_seconds: float = 5.0  # between status checks of a remote job
    job_timeout_seconds: float = 3600.0  # a job not finished by then is given up (and re-attached next run)
    submit_attempts: int = 5  # creates retried only when the provider surely made nothing (429, reconciled)
    # SDK exception class name -> what it means (read by remote.RemoteBackend.classify): not_created (safe to
    # retry), unclear (look before resubmitting), quota, credentials, blocked, rejected, or by_status (its HTTP status decides)
    errors: dict[str, Literal["not_created", "unclear", "quota", "credentials", "blocked", "rejected", "by_status"]] = {}
    doctor: dict[str, Any] = {}  # the provider's free endpoints `storyboard doctor` calls (read by the backend)
    retired: dict[str, Retired] = {}  # model ids the provider retired, with their successors
    models: dict[str, ModelCaps]

    def model(self, name: str) -> tuple[str, ModelCaps, str]:
        """(model used, its caps, a warning) for a storyboard's model name."""
        if name in self.models:
            return name, self.models[name], ""
        gone = self.retired.get(name)
        if gone is not None and gone.successor in self.models:
            when = f" on {gone.since}" if gone.since else ""
            return gone.successor, self.models[gone.successor], (
                f"model {name!r} was retired by the provider{when}; rendering with its successor "
                f"{gone.successor!r} (name it in the storyboard to silence this)")
        if self.any_model:
            return name, self.models[self.default_model], ""
        used = self.default_model
        return used, self.models[used], (f"model {name!r} is not one {self.name} makes; using {used!r} "
                                          f"(models: {', '.join(self.models)})")


@dataclass(frozen=True)
class Fit:
    """What a model is asked for a film's frame, and what the cut delivers."""

    asked: str
    delivered: str

    @property
    def conformed(self) -> bool:
        return self.asked != self.delivered


def aspect(size: str) -> float:
    w, h = dimensions(size)
    return w / h


def same_aspect(a: str, b: str) -> bool:
    return abs(aspect(a) / aspect(b) - 1) <= ASPECT_TOLERANCE


def ratio(size: str) -> str:
    """"1920x1080" -> "16:9"."""
    from math import gcd
    w, h = dimensions(size)
    g = gcd(w, h)
    return f"{w // g}:{h // g}"


def fit_size(film: str, sizes: list[str]) -> Fit | None:
    """The size a model makes that is nearest the film's frame: one of the same aspect (within a few
    per cent), the smallest at or above the film's size, else the largest. None when no size has
    the film's aspect. Pure."""
    if film in sizes:
        return Fit(film, film)
    shaped = [s for s in sizes if same_aspect(s, film)]
    if not shaped:
        return None
    exact = [s for s in shaped if abs(aspect(s) / aspect(film) - 1) < 0.005]
    shaped = exact or shaped  # the very shape first; a few per cent off only when nothing else has it
    fw, fh = dimensions(film)
    area = lambda s: dimensions(s)[0] * dimensions(s)[1]  # noqa: E731
    above = [s for s in shaped if dimensions(s)[0] >= fw and dimensions(s)[1] >= fh]
    best = min(above, key=area) if above else max(shaped, key=area)
    return Fit(best, film)


@dataclass(frozen=True)
class Segments:
    """How a shot's seconds are asked of a backend: one job, then extensions; trimmed to the shot."""

    base: float
    extensions: tuple[float, ...] = ()

    @property
    def seconds(self) -> float:
        return self.base + sum(self.extensions)


def segments_for(duration: float, caps: ModelCaps, exact_duration: bool = False) -> Segments:
    """The next length the model can make at or above `duration`; extensions past its longest job."""
    if exact_duration or not caps.durations:
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
