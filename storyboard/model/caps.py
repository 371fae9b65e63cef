"""What a backend and each of its models can make, as data: lengths, sizes, references, sound, price."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from storyboard.model.storyboard import dimensions

ASPECT_TOLERANCE = 0.04  # a size whose aspect differs by up to 4% is the same shape: conformed by a small crop


class MultiShot(BaseModel):
    """How many storyboard shots one request of the model can hold (Kling's `multi_prompt`): at most
    `max_shots` shots and `max_seconds` in all, each shot asked at one of `shot_durations` (the next
    at or above its length; [] for any length)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_shots: int = Field(ge=2)
    max_seconds: float = Field(gt=0)
    shot_durations: list[float] = []

    def shot_seconds(self, duration: float) -> float | None:
        """What one shot of `duration` is asked as inside a group, or None when no allowed length holds it."""
        if not self.shot_durations:
            return duration
        fitting = [d for d in sorted(self.shot_durations) if d >= duration - 1e-9]
        return fitting[0] if fitting else None


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
    voice_scripts: list[str] = []  # the writing systems its voices read (common.scripts: LATIN...); [] for any
    # and those it reads when optional packages are installed: "package other_package" -> scripts
    voice_scripts_with: dict[str, list[str]] = {}
    prompt_max_chars: int = 4000
    price: dict[str, float] = {"*": 0.0}
    multi_shot: MultiShot | None = None  # several storyboard shots in one request (issue 25's groups)
    params: dict[str, Any] = {}  # backend-specific request settings (endpoint ids, field names), read only by that backend
    # what the pre-spend check refuses before any money moves (table data; see checks.pre_spend)
    needs_first_frame: bool = False  # image to video only: a shot without a first frame cannot be made
    refuses_faces: bool = False  # the provider refuses a photoreal face in the first frame (after payment)
    max_seconds: float = 0.0  # the longest clip one job makes when `durations` is a range (0: from durations)
    # where the row's facts come from, and when they were read
    source: str = ""
    read: str = ""  # YYYY-MM-DD

    def voice_reads(self) -> list[str]:
        """The writing systems its voices read here: `voice_scripts`, and those of the optional voices
        whose packages are installed."""
        import importlib.util
        return self.voice_scripts + [s for packages, more in self.voice_scripts_with.items()
                                     if all(importlib.util.find_spec(p) for p in packages.split()) for s in more]

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
    house_encoded: bool = False  # its clips are encoded on this machine by the house encoder: frames counted, not decoded
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
