"""The panel: everything the animatic draws and voices for one shot, read from the compiled shot and
its continuity, as typed frozen records. Its `key()` (the records as plain data) is what the cache
key holds, so the records' fields and their names are the key's: change one only with a new look
(backend.LOOK). Not the shot's place in the film: a shot moved elsewhere draws the same."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from storyboard.animatic.voices import Voice, cast_voices, readable
from storyboard.draw.colours import RGB, character_colour, hex_rgb
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext


@dataclass(frozen=True)
class Camera:
    framing: str
    angle: str
    move: str
    lens: str = ""


@dataclass(frozen=True)
class SetWords:
    """The location's words the set is drawn from."""

    description: str
    time: str
    weather: str
    lighting: str


@dataclass(frozen=True)
class Character:
    """One character on screen, in their words and the film's colour for them."""

    id: str
    name: str
    colour: str  # "#rrggbb"
    rgb: RGB
    description: str
    wardrobe: str
    props: str
    voice: str  # the storyboard's `voice:` words
    portrait: str | None


@dataclass(frozen=True)
class Line:
    """One line of dialogue as the animatic speaks and shows it."""

    speaker: str
    name: str
    text: str
    delivery: str
    mark: str  # "V.O." | "O.S." | ""
    at: float | None
    pause: float | None
    on_screen: bool  # the speaker is seen: their figure lights up while they speak
    voice: Voice | None  # the voice cast for the speaker
    read: str | None = None  # who reads it when not joe: "ja", or "silent" (no voice here reads it); None: joe


@dataclass(frozen=True)
class Panel:
    look: int
    id: str
    camera: Camera
    place: str  # "HARBOUR — NIGHT, RAIN": the HUD's place line
    set: SetWords | None
    action: str
    sound: str
    characters: tuple[Character, ...]
    dialogue: tuple[Line, ...]
    portraits: tuple[tuple[str, str], ...]  # (character id, project path) for those with a reference
    location_image: str | None
    continues: bool  # the shot starts from the previous shot's last frame
    overlap: float = 0.0  # seconds of the dissolve out of this shot: its lines end before it

    def key(self) -> dict:
        """The panel as the cache key holds it: plain data. A shot with no location has an empty set;
        `read` and `overlap` appear only when they say something (keys made before them stay)."""
        out = asdict(self)
        out["set"] = out["set"] or {}
        out["portraits"] = dict(self.portraits)
        for line in out["dialogue"]:
            if line["read"] is None:
                del line["read"]
        if not self.overlap:
            del out["overlap"]
        return out

    @property
    def assets(self) -> list[str]:
        """Project files the picture is drawn from (their digests join the key)."""
        return sorted({p for _, p in self.portraits} | ({self.location_image} if self.location_image else set()))

    def character(self, cid: str) -> Character | None:
        return next((c for c in self.characters if c.id == cid), None)


def place_words(ctx: ShotContext) -> str:
    if not ctx.location:
        return ""
    loc = ctx.location
    when = ", ".join(x for x in (loc.time, loc.weather) if x)
    return loc.name.upper() + (f" — {when}" if when else "")


def _mark(line) -> str:
    return "V.O." if line.voice_over else "O.S." if line.off_screen else ""


def voices_for(ctx: ShotContext) -> dict[str, Voice]:
    """Each character's voice, cast across the whole film so no two share one unless they say so."""
    cast = ctx.cast or (*ctx.on_screen, *ctx.heard)
    return cast_voices([(c.id, c.voice, c.description) for c in cast])


def _rounded(v: Voice) -> Voice:
    p = v.params()
    return Voice(p["name"], p["pitch"], p["formant"], p["rough"], p["breath"])


def panel_for(shot: CompiledShot, ctx: ShotContext, look: int) -> Panel:
    """The panel of a compiled shot in its continuity, for the animatic's `look` version."""
    seen = {c.id for c in ctx.on_screen}
    voices = voices_for(ctx)
    loc = ctx.location
    cam = ctx.shot.camera
    return Panel(
        look=look, id=shot.id, camera=Camera(cam.framing, cam.angle, cam.move, cam.lens), place=place_words(ctx),
        set=SetWords(loc.description, loc.time, loc.weather, loc.lighting) if loc else None,
        action=ctx.shot.action.strip(), sound=ctx.shot.sound.strip(),
        characters=tuple(Character(c.id, c.name, character_colour(c.id), hex_rgb(character_colour(c.id)),
                                   c.description, c.wardrobe, c.props, c.voice, c.reference)
                         for c in ctx.on_screen),
        dialogue=tuple(Line(ln.speaker, line.name, ln.text, ln.delivery, _mark(ln), ln.at, ln.pause,
                            ln.speaker in seen and not ln.heard_not_seen,
                            _rounded(voices[ln.speaker]) if ln.speaker in voices else None, _reader(ln.text))
                       for ln, line in zip(ctx.shot.dialogue, shot.dialogue)),
        portraits=tuple((c.id, c.reference) for c in ctx.on_screen if c.reference),
        location_image=loc.reference if loc and loc.reference else None,
        continues=ctx.previous is not None,
        overlap=ctx.overlap_out or 0.0,
    )


def _reader(text: str) -> str | None:
    lang = readable(text)[0]
    return None if lang == "en" else (lang or "silent")


def camera_words(panel: Panel) -> str:
    """The HUD's camera line: "CLOSE-UP · LOW ANGLE · 35MM · DOLLY IN"."""
    cam = panel.camera
    framing = cam.framing.upper()
    if cam.framing == "pov" and panel.characters:
        framing = f"POV ({panel.characters[0].name.upper()})"
    angle = cam.angle.upper() + ("" if cam.angle in ("overhead",) else " ANGLE")
    return " · ".join(x for x in (framing, angle, cam.lens.upper(), cam.move.upper()) if x)
