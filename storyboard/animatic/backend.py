"""The offline animatic: every shot as a real clip a pre-vis artist can read. The framing sizes and
crops the figures, the angle moves the horizon and foreshortens them, the move travels the camera
over the drawn world; characters stand apart, dressed as the story has them, and light up while
they speak in voices of their own; the weather falls and flashes, the sound bed follows the
`sound:` words. Free, deterministic, and first-class: it caches like any backend."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from PIL import Image

from storyboard.animatic import ambience, stage, camera
from storyboard.animatic.camera import Layer, between
from storyboard.animatic.voices import RATE, ScratchVoices, Voice, cast_voices, readable
from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.common import stable_int
from storyboard.draw import cards as text
from storyboard.media import clips
from storyboard.media.ffmpeg import run
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.stages.timeline import beat, place_lines, frames as to_frames

LOOK = 3  # the animatic's drawing and voicing, versioned: a new look renders clips anew (3: CJK lines timed and silent)
ROOM_TONE_DBFS = -50.0
DUCK_DB = -7.0  # the sound bed under dialogue


def room_tone(samples: int, seed: int) -> np.ndarray:
    """Quiet, soft (low-passed) noise, the same for the same shot."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(samples)
    alpha = 0.02
    kernel = alpha * (1 - alpha) ** np.arange(256)
    soft = np.convolve(white, kernel, mode="same")
    rms = float(np.sqrt(np.mean(soft ** 2))) or 1.0
    return (soft / rms * 10 ** (ROOM_TONE_DBFS / 20)).astype(np.float32)


def write_wav(path: Path, mono: np.ndarray) -> None:
    pcm = (np.clip(mono, -1, 1) * 32767).astype("<i2")
    stereo = np.repeat(pcm[:, None], 2, axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(stereo.tobytes())


def _place_words(ctx: ShotContext) -> str:
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


def panel_for(shot: CompiledShot, ctx: ShotContext) -> dict:
    """Everything the animatic draws and voices for one shot, from the compiled shot and its
    continuity. Not its place in the film: a shot moved elsewhere draws the same."""
    seen = {c.id for c in ctx.on_screen}
    voices = voices_for(ctx)
    loc = ctx.location
    return {
        "look": LOOK, "id": shot.id, "camera": ctx.shot.camera.model_dump(), "place": _place_words(ctx),
        "set": {"description": loc.description, "time": loc.time, "weather": loc.weather,
                "lighting": loc.lighting} if loc else {},
        "action": ctx.shot.action.strip(), "sound": ctx.shot.sound.strip(),
        "characters": [{"id": c.id, "name": c.name, "colour": text.character_colour(c.id),
                        "rgb": list(text.hex_rgb(text.character_colour(c.id))), "description": c.description,
                        "wardrobe": c.wardrobe, "props": c.props, "voice": c.voice, "portrait": c.reference}
                       for c in ctx.on_screen],
        "dialogue": [{"speaker": ln.speaker, "name": line.name, "text": ln.text, "delivery": ln.delivery,
                      "mark": _mark(ln), "at": ln.at, "pause": ln.pause,
                      "on_screen": ln.speaker in seen and not ln.heard_not_seen,
                      "voice": voices[ln.speaker].params() if ln.speaker in voices else None,
                      **({"read": readable(ln.text)[0] or "silent"} if readable(ln.text)[0] != "en" else {})}
                     for ln, line in zip(ctx.shot.dialogue, shot.dialogue)],
        "portraits": {c.id: c.reference for c in ctx.on_screen if c.reference},
        "location_image": loc.reference if loc and loc.reference else None,
        "continues": ctx.previous is not None,
        **({"overlap": ctx.overlap_out} if ctx.overlap_out else {}),  # its lines end before the dissolve out
    }


def camera_words(panel: dict) -> str:
    cam = panel["camera"]
    framing = cam["framing"].upper()
    if cam["framing"] == "pov" and panel["characters"]:
        framing = f"POV ({panel['characters'][0]['name'].upper()})"
    angle = cam["angle"].upper() + ("" if cam["angle"] in ("overhead",) else " ANGLE")
    return " · ".join(x for x in (framing, angle, cam.get("lens", "").upper(), cam["move"].upper()) if x)


def _save(im: Image.Image, path: Path, x: int = 0, y: int = 0, crop: bool = True) -> tuple[Path, int, int] | None:
    """Save only the part of a transparent layer that shows; where it goes."""
    if crop:
        box = im.getbbox()
        if box is None:
            return None
        x0, y0 = box[0] & ~1, box[1] & ~1  # even offsets: yuv420p chroma lines up
        im = im.crop((x0, y0, box[2], box[3]))
        x, y = x + x0, y + y0
    im.save(path, compress_level=1)
    return path, x, y


def _window(start: float, end: float) -> str:
    return f"gte(t,{start:.3f})*lt(t,{end:.3f})"


class AnimaticBackend(Backend):
    @classmethod
    def key_extra(cls, shot: CompiledShot, ctx: ShotContext) -> dict:
        """The drawn panel and the spoken lines shape the clip: both are in its key."""
        panel = panel_for(shot, ctx)
        assets = sorted(set(panel["portraits"].values()) | ({panel["location_image"]} if panel["location_image"] else set()))
        return {"panel": panel, "assets": assets}

    def render(self, req: RenderRequest) -> RenderResult:
        shot = req.shot
        w, h = shot.dimensions
        fps = shot.fps
        n = to_frames(shot.duration, fps)
        seconds = n / fps
        work = req.workdir
        panel = panel_for(shot, req.job.context)
        req.report("drawing", 5)
        rig, comp, world_layers, screen_layers, text_layers, spans, overrun = self._picture(
            panel, w, h, fps, n, req.asset, work)

        req.report("voicing", 25)
        said, warnings, mix = self._sound(panel, spans, overrun, seconds, comp.flashes, shot)
        write_wav(work / "sound.wav", mix)

        opening = None
        if panel["continues"] and req.input_image is not None:
            opening = req.input_image  # the previous shot's last frame: picture only, no text

        req.report("encoding", 45)
        out = work / "clip.mp4"
        run(camera.animatic_cmd(work / "world.png", rig, work / "sound.wav", out, w, h, fps, n,
                                world_layers, screen_layers, text_layers, opening),
            what=f"animatic of shot '{shot.id}'")
        for f in [work / "world.png", work / "sound.wav",
                  *(layer.png for layer in (*world_layers, *screen_layers, *text_layers))]:
            f.unlink(missing_ok=True)
        return RenderResult(clip=out, model_reported=f"animatic ({shot.model})", dialogue=said, warnings=warnings,
                            extra={"house": clips.house_signature(w, h, fps)})  # joins by stream copy

    @classmethod
    def _picture(cls, panel: dict, w: int, h: int, fps: int, n: int, asset, work: Path):
        """Everything the picture is made of: the camera rig, the drawn world and its layers, and
        where each line is spoken (which lights its speaker)."""
        seconds = n / fps
        cam = panel["camera"]
        rig = camera.rig(cam["move"], n, w, h, fps, tilt=stage.DUTCH if cam["angle"] == "dutch" else 0.0)
        lines = panel["dialogue"]
        spans, overrun = cls.line_spans(panel, seconds)
        speaking: dict[str, list[tuple[float, float]]] = {}
        for ln, (start, end) in zip(lines, spans):
            if ln["on_screen"] and start < seconds:
                speaking.setdefault(ln["speaker"], []).append((start, min(end, seconds)))
        portraits = {cid: asset(p) for cid, p in panel["portraits"].items()}
        loc_image = asset(panel["location_image"]) if panel["location_image"] else None
        comp = stage.compose(panel, w, h, rig, seconds, speaking, portraits, loc_image)
        comp.world.save(work / "world.png", compress_level=1)
        world_layers = cls._figure_layers(comp, rig, speaking, work)
        screen_layers = cls._screen_layers(comp, w, h, work)
        text_layers = cls._text_layers(panel, spans, seconds, fps, w, h, work)
        return rig, comp, world_layers, screen_layers, text_layers, spans, overrun

    @staticmethod
    def line_spans(panel: dict, seconds: float):
        """Where each line is spoken, and which overrun: the cut's one rule (timeline.place_lines)."""
        return place_lines([beat(ln["text"], ln["at"], ln["pause"]) for ln in panel["dialogue"]], seconds,
                           panel.get("overlap", 0.0))

    @classmethod
    def opening_picture(cls, shot: CompiledShot, ctx: ShotContext, asset, width: int, height: int):
        """The first frame the animatic would render for a shot, made by the same drawing and the
        same ffmpeg graph, two frames long (text never stands on a last frame) and silent: the review page and the boards show it for
        shots that have no clip."""
        import tempfile

        import av
        with tempfile.TemporaryDirectory(prefix="opening-") as tmp:
            work = Path(tmp)
            n = to_frames(shot.duration, shot.fps)
            panel = panel_for(shot, ctx)
            rig, _, world_layers, screen_layers, text_layers, _, _ = cls._picture(
                panel, width, height, shot.fps, n, asset, work)
            write_wav(work / "sound.wav", np.zeros(RATE // shot.fps + 1, dtype=np.float32))
            out = work / "first.mp4"
            run(camera.animatic_cmd(work / "world.png", rig, work / "sound.wav", out, width, height, shot.fps, 2,
                                    world_layers, screen_layers, text_layers, None),
                what=f"the opening picture of shot '{shot.id}'")
            with av.open(str(out), options={"protocol_whitelist": "file"}) as c:
                return next(c.decode(video=0)).to_image()

    @staticmethod
    def _figure_layers(comp: stage.Composition, rig: camera.Rig, speaking: dict, work: Path) -> list[Layer]:
        """Figures that move against the world, and speakers lit while they speak."""
        layers = []
        dx, dy = rig.follow or ("0", "0")
        for k, sp in enumerate(comp.sprites):
            path = work / f"fig{k}.png"
            sp.image.save(path, compress_level=1)
            x = f"{sp.x}+{dx}" if sp.rides else sp.x
            y = f"{sp.y}+{dy}" if sp.rides else sp.y
            when = []
            if sp.state is not None:
                when.append(_window(*sp.state))
            if sp.lit:
                when.append("+".join(between(a, b) for a, b in speaking.get(sp.who, [])) or "0")
            enable = "*".join(f"({x_})" for x_ in when) if when else None
            layers.append(Layer(path, x, y, enable))
        return layers

    @staticmethod
    def _screen_layers(comp: stage.Composition, w: int, h: int, work: Path) -> list[Layer]:
        layers = []
        for kind, im in comp.screen:
            path = work / f"screen-{kind}.png"
            im.save(path, compress_level=1)
            if kind == "rain":
                layers.append(Layer(path, 0, f"-{h}+mod(n*{max(1, int(h * 0.045))},{h})"))
            elif kind == "snow":
                layers.append(Layer(path, f"{max(2, w // 200)}*sin(n/13)", f"-{h}+mod(n*{max(1, int(h * 0.006))},{h})"))
            elif kind == "flash":
                layers.append(Layer(path, 0, 0, "+".join(f"{between(t, t + 0.09)}+{between(t + 0.17, t + 0.23)}"
                                                         for t in comp.flashes)))
            else:
                layers.append(Layer(path, 0, 0))
        return layers

    @staticmethod
    def _text_layers(panel: dict, spans, seconds: float, fps: int, w: int, h: int, work: Path) -> list[Layer]:
        """The HUD, and each line's card while it is spoken (never on the last frame: see camera)."""
        placed = text.hud_layout(w, h, panel["id"], camera_words(panel), panel["place"], panel["action"], panel["sound"])
        layers = []
        saved = _save(text.draw_hud(w, h, placed), work / "hud.png")
        if saved:
            layers.append(Layer(*saved))
        colours = {c["id"]: c["colour"] for c in panel["characters"]}
        for k, (ln, (start, end)) in enumerate(zip(panel["dialogue"], spans)):
            if start >= seconds:
                continue
            card = text.draw_subtitle(ln["name"], ln["text"], colours.get(ln["speaker"], "#ffffff"), w, h,
                                      note=", ".join(x for x in (ln["mark"], ln["delivery"]) if x))
            saved = _save(card, work / f"sub{k}.png")
            if saved:
                layers.append(Layer(*saved, enable=between(start, min(end, seconds))))
        return layers

    @staticmethod
    def _sound(panel: dict, spans, overrun, seconds: float, flashes: list[float], shot: CompiledShot):
        """Room tone, the `sound:` bed (ducked under speech), and every line in its character's voice,
        each lasting exactly the shared estimate of its speaking time."""
        total = int(round(seconds * RATE))
        mix = room_tone(total, stable_int("room", panel["id"], panel["sound"]))
        bed = ambience.bed(panel["sound"], seconds, RATE, flashes)
        duck = np.ones(total, dtype=np.float32)
        said: list[dict] = []
        warnings: list[str] = []
        for k, (ln, (start, end)) in enumerate(zip(panel["dialogue"], spans)):
            a = int(start * RATE)
            if a >= total:
                warnings.append(f"line {k + 1} ({ln['name']}: {ln['text'][:40]!r}) starts after the end of the "
                                f"{shot.duration:g}s shot and is not heard; lengthen the shot or move the line")
                continue
            voice = Voice(**ln["voice"]) if ln["voice"] else Voice("joe", 0.0, 1.0)
            audio = ScratchVoices.speak(ln["text"], voice, end - start, ln["delivery"])
            piece = audio[: total - a].copy()
            if len(piece) < len(audio):
                fade = min(len(piece), int(0.02 * RATE))
                piece[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
            mix[a:a + len(piece)] += piece
            lo, hi = max(0, a - int(0.15 * RATE)), min(total, a + len(piece) + int(0.25 * RATE))
            duck[lo:hi] = 10 ** (DUCK_DB / 20)
            said.append({"speaker": ln["speaker"], "name": ln["name"], "text": ln["text"], "start": start,
                         "end": min(end, seconds)})
            if k in overrun and end > seconds:
                warnings.append(f"line {k + 1} ({ln['name']}) runs past the end of the {shot.duration:g}s shot "
                                f"by {end - seconds:.1f}s and is cut; lengthen the shot or cut words")
            elif k in overrun:
                warnings.append(f"line {k + 1} ({ln['name']}) runs {end - seconds + panel['overlap']:.1f}s under the "
                                "transition into the next shot; lengthen the shot or cut words")
        if len(bed):
            mix += bed * smooth(duck, int(0.12 * RATE))
        return said, warnings, mix


def smooth(x: np.ndarray, width: int) -> np.ndarray:
    """A moving average (running sums: cheap at any width), centred."""
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    half = width // 2
    idx = np.arange(len(x))
    lo, hi = np.clip(idx - half, 0, len(x)), np.clip(idx + half + 1, 0, len(x))
    return ((c[hi] - c[lo]) / (hi - lo)).astype(np.float32)
