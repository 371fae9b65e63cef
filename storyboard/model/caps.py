"""What a backend and each of its models can make, as data: lengths, sizes, references, sound, price."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    durations: list[float] = Field(description="clip lengths one job makes; empty with exact_duration")
    extension_durations: list[float] = []
    sizes: list[str]
    image_reference: bool = False  # takes a first frame (a continuous shot's, or a reference still)
    characters: bool = False  # native characters made from cameo videos
    max_characters: int = 0
    reference_images: int = 0  # subject reference images per job
    negative_prompt: bool = False
    makes_sound: bool = False  # the clip has its own sound; a silent clip is then worth a warning
    voice_scripts: list[str] = []  # the writing systems its voices read (common.scripts: LATIN...); [] for any
    # and those it reads when optional packages are installed: "package other_package" -> scripts
    voice_scripts_with: dict[str, list[str]] = {}
    prompt_max_chars: int = 4000
    price: dict[str, float] = {"*": 0.0}
    params: dict[str, Any] = {}  # backend-specific request settings (endpoint ids, field names), read only by that backend

    def voice_reads(self) -> list[str]:
        """The writing systems its voices read here: `voice_scripts`, and those of the optional voices
        whose packages are installed."""
        import importlib.util
        return self.voice_scripts + [s for packages, more in self.voice_scripts_with.items()
                                     if all(importlib.util.find_spec(p) for p in packages.split()) for s in more]

    def price_per_second(self, size: str) -> float:
        return self.price.get(size, self.price.get("*", 0.0))


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
    models: dict[str, ModelCaps]

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
