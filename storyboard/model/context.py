"""A shot's continuity: who is where, wearing what, in which light, as the fold leaves it."""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.model.storyboard import Shot


@dataclass(frozen=True)
class CharacterState:
    id: str
    name: str
    description: str
    wardrobe: str
    props: str
    voice: str
    reference: str | None
    cameo: str | None


@dataclass(frozen=True)
class LocationState:
    id: str
    name: str
    description: str
    time: str
    weather: str
    lighting: str
    reference: str | None


@dataclass(frozen=True)
class ShotContext:
    """Everything a shot needs to be told in the same words as every other shot."""

    index: int
    shot: Shot
    style: str
    location: LocationState | None
    on_screen: tuple[CharacterState, ...]
    heard: tuple[CharacterState, ...]  # speakers not on screen (V.O., O.S.)
    previous: str | None  # id of the shot before, when this one continues it
    cast: tuple[CharacterState, ...] = ()  # every character of the film as first described (voices are cast from it)
    overlap_out: float = 0.0  # seconds of its end under the next shot (a dissolve or wipe out): its lines end before
