"""The storyboard as written: frozen models of the version 1 format."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, WithJsonSchema,
                      field_validator, model_serializer, model_validator)

from storyboard.model import vocab

Id = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                                description="a short name: letters, digits, _ and -")]
Text = Annotated[StrictStr, Field(max_length=4000)]
Seconds = Annotated[float, Field(strict=True, ge=1, le=20, description="seconds, 1-20")]


def dimensions(size: str) -> tuple[int, int]:
    """(width, height) of a "WIDTHxHEIGHT" size."""
    w, h = size.split("x")
    return int(w), int(h)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _vocab(kind: str, words: tuple[str, ...]):
    def check(v: Any) -> Any:
        if isinstance(v, str):
            norm = " ".join(v.strip().lower().replace("_", " ").split())
            if norm in words:
                return norm
            hyph = norm.replace(" ", "-")
            if hyph in words:
                return hyph
            raise ValueError(vocab.unknown(kind, v, words))
        return v
    return Annotated[StrictStr, BeforeValidator(check), WithJsonSchema({"type": "string", "enum": list(words)})]


Framing = _vocab("framing", vocab.FRAMINGS)
Angle = _vocab("angle", vocab.ANGLES)
Move = _vocab("camera move", vocab.MOVES)
Continuity = _vocab("continuity", vocab.CONTINUITY)

OVERLAPPING = ("dissolve", "wipe-left")  # transitions that lay the two shots over each other

_TRANSITION = re.compile(r"^\s*([a-z-]+)\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$")


class Transition(Frozen):
    """Into the next shot: a cut, or a dissolve / fade / fade-to-black / wipe of some seconds.
    Written (and serialised) as text: "cut", "dissolve 1s", "fade 0.5"."""

    kind: Literal["cut", "dissolve", "fade", "fade-to-black", "wipe-left"] = "cut"
    seconds: float = 0.0

    @model_serializer
    def _as_text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return "cut" if self.kind == "cut" else f"{self.kind} {self.seconds:g}s"

    @property
    def overlaps(self) -> bool:
        """Dissolves and wipes overlap the two shots; fades do not."""
        return self.kind in OVERLAPPING


def _transition(v: Any) -> Any:
    """A transition as written: "dissolve 1s" (the s may be left out: "dissolve 1")."""
    if isinstance(v, str):
        m = _TRANSITION.match(v.lower())
        if not m or m.group(1) not in vocab.TRANSITIONS:
            word = m.group(1) if m else v
            raise ValueError(vocab.unknown("transition", word, ("cut", "dissolve Ns", "fade Ns", "fade-to-black Ns", "wipe-left Ns"))
                             .replace("did you mean 'dissolve Ns'", "did you mean 'dissolve 1s'"))
        kind, secs = m.group(1), m.group(2)
        if kind == "cut":
            if secs:
                raise ValueError("a cut has no duration; write 'cut' or 'dissolve 1s'")
            return Transition()
        seconds = float(secs) if secs else 1.0
        if not 0 < seconds <= 10:
            raise ValueError(f"transition of {seconds:g}s; it must be more than 0 and at most 10 seconds")
        return Transition(kind=kind, seconds=seconds)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise ValueError(f"transition {v!r} needs a kind: cut, dissolve {v}s, fade {v}s, fade-to-black {v}s or wipe-left {v}s")
    if isinstance(v, Transition):
        return v
    raise ValueError("a transition is written as text: cut, dissolve 1s, fade 1s, fade-to-black 2s or wipe-left 0.5s")


# JSON Schema patterns are case-sensitive; the tool lower-cases first, so each letter takes either case
def _either_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)  # words hold letters and -


_KINDS = "|".join(_either_case(k) for k in vocab.TRANSITIONS if k != "cut")
TransitionField = Annotated[Transition, BeforeValidator(_transition), WithJsonSchema({
    "type": "string",
    "pattern": rf"^\s*({_either_case('cut')}|({_KINDS})\s*(\d+(\.\d+)?\s*[sS]?)?)\s*$",
    "description": "into the next shot: cut | dissolve Ns | fade Ns | fade-to-black Ns | wipe-left Ns (N: more than 0, "
                   "at most 10; 1 when left out)",
    "examples": ["cut", "dissolve 1s", "fade 1s", "fade-to-black 2s", "wipe-left 0.5s"]})]


class Defaults(Frozen):
    model: StrictStr = Field("sora-2", description="sora-2 | sora-2-pro; backends may accept more")
    size: StrictStr = Field("1280x720", pattern=r"^\d{3,4}x\d{3,4}$", description="WIDTHxHEIGHT, e.g. 1280x720")
    transition: TransitionField = Field(Transition(), description="the transition into the next shot "
                                                                  "where a shot names none")
    fps: int = Field(24, strict=True, ge=12, le=60, description="frames per second of the cut")
    multi_shot: Literal["off", "scene"] = Field("off", description="scene: consecutive shots of one location, "
                                                                  "joined by cuts, go to a model that makes several "
                                                                  "shots in one request as one request, and are "
                                                                  "cut back into shots")

    @property
    def width(self) -> int:
        return dimensions(self.size)[0]

    @property
    def height(self) -> int:
        return dimensions(self.size)[1]


class Character(Frozen):
    """A recurring named character, described once."""

    name: StrictStr = Field("", description="the name used in prompts and subtitles; defaults to the id")
    description: Text = Field(..., description="who they are, in the words every shot will use")
    wardrobe: Text = ""
    props: Text = Field("", description="what they carry, if anything")
    voice: Text = ""
    reference: StrictStr | None = Field(None, description="a still image of the character (png/jpeg/webp)")
    cameo: StrictStr | None = Field(None, description="a 2-4 s video; becomes a Sora character")
    identity: StrictBool | None = Field(None, description="false: no face to check against the reference (an animal, "
                                        "a thing, a voice); left out, inferred from the description")


class Location(Frozen):
    name: StrictStr = ""
    description: Text
    time: StrictStr = Field("", description="free text: dawn, golden hour, night...")
    weather: StrictStr = ""
    lighting: Text = ""
    reference: StrictStr | None = None


class Camera(Frozen):
    framing: Framing = "medium"
    angle: Angle = "eye-level"
    move: Move = "static"
    lens: StrictStr = ""


_PAREN = re.compile(r"^\s*\(([^)]*)\)\s*")
_MARKS = ("V.O.", "O.S.")


LINE_TIMING = ("at", "pause")  # keys a dialogue line may carry beside `speaker: text`


class DialogueLine(Frozen):
    """One spoken line. Written in YAML as `- speaker: "(delivery) text"`, or with its timing as
    `- {speaker: text, at: 5.5}` / `- {speaker: text, pause: 1}`."""

    speaker: Id
    text: StrictStr = Field(min_length=1, max_length=1000)
    delivery: StrictStr = ""
    voice_over: bool = False
    off_screen: bool = False
    at: float | None = Field(None, ge=0, le=20, description="seconds into the shot when the line starts")
    pause: float | None = Field(None, ge=0, le=20, description="seconds of silence before the line")

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, v: Any) -> Any:
        timing: dict[str, Any] = {}
        if isinstance(v, dict) and len(v) > 1 and "speaker" not in v:
            timing = {k: v[k] for k in LINE_TIMING if k in v}
            v = {k: x for k, x in v.items() if k not in LINE_TIMING}
        if isinstance(v, dict) and len(v) == 1 and "speaker" not in v:
            (speaker, text), = v.items()
            if not isinstance(text, str):
                raise ValueError(f"the line of {speaker!r} must be text; put it in quotes")
            vo = os_ = False
            sp = str(speaker)
            for mark in _MARKS:
                for spelled in (f"({mark})", f"({mark.replace('.', '')})"):
                    if spelled.lower() in sp.lower():
                        sp = re.sub(re.escape(spelled), "", sp, flags=re.I).strip()
                        vo, os_ = vo or mark == "V.O.", os_ or mark == "O.S."
            deliveries = []
            while (m := _PAREN.match(text)):
                inner = m.group(1).strip()
                key = inner.upper().replace(" ", "")
                if key in ("V.O.", "VO"):
                    vo = True
                elif key in ("O.S.", "OS", "O.C.", "OC"):
                    os_ = True
                elif inner:
                    deliveries.append(inner)
                text = text[m.end():]
            return {"speaker": sp, "text": text.strip(), "delivery": ", ".join(deliveries),
                    "voice_over": vo, "off_screen": os_, **timing}
        if isinstance(v, dict) and len(v) != 1 and "speaker" not in v:
            raise ValueError("a dialogue line is one 'speaker: text' pair, with at most 'at' and 'pause' beside "
                             "it, e.g. - mara: Not tonight.  or  - {mara: \"Go home.\", at: 5.5}")
        if isinstance(v, str):
            raise ValueError("a dialogue line needs a speaker: write - mara: \"" + v[:30] + "\"")
        return v

    @property
    def heard_not_seen(self) -> bool:
        return self.voice_over or self.off_screen


DialogueField = Annotated[DialogueLine, WithJsonSchema({"anyOf": [
    {"type": "object", "minProperties": 1, "maxProperties": 3,
     "properties": {"at": {"type": "number", "minimum": 0, "maximum": 20,
                           "description": "seconds into the shot when the line starts"},
                    "pause": {"type": "number", "minimum": 0, "maximum": 20,
                              "description": "seconds of silence before the line"}},
     "additionalProperties": {"type": "string"},
     "description": "speaker id: text; '(delivery)' before the text, '(V.O.)' or '(O.S.)' for a voice not on "
                    "screen; optional 'at' and 'pause' in seconds"},
    {**DialogueLine.model_json_schema(), "title": "a dialogue line spelt out field by field"}]})]


class StateChange(Frozen):
    """What changes for a character or location from this shot on."""

    description: Text | None = None
    wardrobe: Text | None = None
    props: Text | None = None
    time: StrictStr | None = None
    weather: StrictStr | None = None
    lighting: Text | None = None


class Shot(Frozen):
    id: Id
    duration: Seconds
    location: Id | None = None
    characters: list[Id] = []
    camera: Camera = Camera()
    action: Text = ""
    dialogue: list[DialogueField] = []
    sound: Text = ""
    continuity: Continuity = "cut"
    changes: dict[Id, StateChange] = Field({}, description="keyed by character or location id")
    transition: TransitionField | None = Field(None, description="into the next shot; defaults.transition when absent")
    prompt: Text = ""
    keyframes: list[StrictStr] = Field([], description="images the shot passes through, in order, spaced evenly "
                                                       "between its first and last frame (for models that take "
                                                       "keyframes, such as kling-4; others describe the shot in words)")
    take: int | None = Field(None, ge=1, description="use this take of the shot's request (1, 2, ...); "
                                                     "default: the latest")
    group: Id | None = Field(None, description="consecutive shots with the same group name are made in one "
                                               "request where the model can (multi-shot), and cut back into shots")

    @field_validator("duration", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"duration must be a number of seconds from 1 to 20, like 8 or 6.5; got {v!r}")
        return float(v)

    @field_validator("take", mode="before")
    @classmethod
    def _take(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"must be a whole number from 1, like take: 2 (the second take); got {v!r}")
        if v < 1:
            raise ValueError(f"there is no take {v}; takes are numbered from 1 (take: 1 is the first)")
        return v


class Storyboard(Frozen):
    """A film, a scene or one episode: the whole YAML file after includes are merged."""

    version: Literal[1] = Field(..., description="the format version; 1")
    title: StrictStr = ""
    include: list[StrictStr] = Field([], description="series bibles merged under this file, key by key")
    defaults: Defaults = Defaults()
    style: Text = ""
    characters: dict[Id, Character] = {}
    locations: dict[Id, Location] = {}
    shots: list[Shot] = Field(..., min_length=1)
    music: StrictStr | None = None
    music_volume: float = Field(-16.0, ge=-60, le=6, description="the music bed's level in dB (default -16); "
                                                                  "it is also ducked under dialogue")

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if v != 1 or isinstance(v, bool):
            raise ValueError(f"version {v!r} is not supported; this storyboard reads version: 1")
        return v

    def transition_after(self, index: int) -> Transition:
        shot = self.shots[index]
        return shot.transition if shot.transition is not None else self.defaults.transition

    def character_name(self, cid: str) -> str:
        c = self.characters.get(cid)
        return (c.name or cid.replace("_", " ").title()) if c else cid

    @property
    def running_time(self) -> float:
        """Seconds of the cut: shots less the overlaps of dissolves and wipes."""
        total = sum(s.duration for s in self.shots)
        for i in range(len(self.shots) - 1):
            t = self.transition_after(i)
            if t.overlaps:
                total -= t.seconds
        return total
