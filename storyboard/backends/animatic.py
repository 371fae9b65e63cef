"""The offline animatic: every shot as a real clip (drawn panel, camera move, burnt-in dialogue,
scratch voices, room tone). Free, deterministic, and first-class: it caches like any backend."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from storyboard.backends import panel as draw
from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.backends.voices import RATE, ScratchVoices, voice_params
from storyboard.common import stable_int
from storyboard.continuity import ShotContext
from storyboard.model.compiled import CompiledShot
from storyboard.media import clips
from storyboard.media.ffmpeg import run
from storyboard.timeline import frames as to_frames
from storyboard.timeline import place_lines, speech_seconds

ROOM_TONE_DBFS = -50.0


def room_tone(samples: int, seed: int) -> np.ndarray:
    """Quiet, soft (low-passed) noise, the same for the same shot."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(samples)
    # one-pole low-pass via cumulative sum with leak, computed in blocks for speed
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


def _cropped(im, path: Path, start: float | None = None, end: float | None = None) -> clips.Overlay | None:
    """Save only the part of a transparent layer that shows, and where it goes."""
    box = im.getbbox()
    if box is None:
        return None
    x0, y0 = box[0] & ~1, box[1] & ~1  # even offsets: yuv420p chroma lines up
    im.crop((x0, y0, box[2], box[3])).save(path, compress_level=1)
    return clips.Overlay(path, x0, y0, start, end)


def _location_words(ctx: ShotContext) -> str:
    if not ctx.location:
        return ""
    loc = ctx.location
    when = ", ".join(x for x in (loc.time, loc.weather) if x)
    return f"{loc.name.upper()}" + (f" - {when}" if when else "")


def panel_for(shot: CompiledShot, ctx: ShotContext) -> dict:
    """What the animatic draws and voices for one shot, from the compiled shot and its continuity."""
    people = {c.id: c for c in (*ctx.on_screen, *ctx.heard)}
    return {
        "number": ctx.index + 1, "id": shot.id, "camera": ctx.shot.camera.model_dump(),
        "location": _location_words(ctx), "action": ctx.shot.action.strip(), "sound": ctx.shot.sound.strip(),
        "characters": [{"id": c.id, "name": c.name, "colour": draw.character_colour(c.id)} for c in ctx.on_screen],
        "portraits": {c.id: c.reference for c in ctx.on_screen if c.reference},
        "location_image": ctx.location.reference if ctx.location and ctx.location.reference else None,
        "voices": {ln.speaker: voice_params(stable_int("voice", ln.speaker),
                                            people[ln.speaker].voice if ln.speaker in people else "")
                   for ln in shot.dialogue},
    }


def opening_picture(shot: CompiledShot, ctx: ShotContext, asset, width: int, height: int):
    """The first frame the animatic would render for a shot (its scene and HUD), drawn without
    encoding anything: the review page and the boards show it for shots never rendered."""
    from PIL import Image
    panel = panel_for(shot, ctx)
    portraits = {cid: asset(p) for cid, p in panel["portraits"].items()}
    loc_image = asset(panel["location_image"]) if panel["location_image"] else None
    im = draw.draw_scene(panel, width, height, portraits, loc_image).resize((width, height), Image.LANCZOS)
    hud = draw.draw_hud(panel, width, height)
    im.paste(hud, (0, 0), hud)
    return im


class AnimaticBackend(Backend):
    @classmethod
    def key_extra(cls, shot: CompiledShot, ctx: ShotContext) -> dict:
        """The drawn panel and the spoken lines shape the clip: both are in its key."""
        panel = panel_for(shot, ctx)
        assets = sorted(set(panel["portraits"].values()) | ({panel["location_image"]} if panel["location_image"] else set()))
        return {"panel": panel, "dialogue": [ln.model_dump() for ln in shot.dialogue], "assets": assets}


    def render(self, req: RenderRequest) -> RenderResult:
        shot = req.shot
        w, h = shot.dimensions
        fps = shot.fps
        n = to_frames(shot.duration, fps)
        work = req.workdir
        req.report("drawing", 5)
        panel = panel_for(shot, req.job.context)
        portraits = {cid: req.asset(p) for cid, p in panel.get("portraits", {}).items()}
        loc_image = req.asset(panel["location_image"]) if panel.get("location_image") else None
        scene = draw.draw_scene(panel, w, h, portraits, loc_image)
        if req.input_image is not None and shot.input_reference and shot.input_reference.kind == "previous_last_frame":
            # a continuous shot opens on the previous shot's last frame: blend it into the scene's backdrop
            from PIL import Image
            prev = Image.open(req.input_image).convert("RGB").resize(scene.size)
            scene = Image.blend(scene, prev, 0.35)
        scene.save(work / "scene.png", compress_level=1)
        overlays = [o for o in (_cropped(draw.draw_hud(panel, w, h), work / "hud.png"),) if o]

        req.report("voicing", 25)
        colours = {c["id"]: c["colour"] for c in panel.get("characters", [])}
        voices = panel.get("voices", {})
        seconds = n / fps
        # lines sit where the shared estimate puts them (as the checks and the subtitles of other
        # backends have them); a voice longer than its place is spoken faster to fit it
        spans, overrun = place_lines([speech_seconds(line.text) for line in shot.dialogue], seconds)
        speech = []
        for line, (start, end) in zip(shot.dialogue, spans):
            params = voices.get(line.speaker, {"pitch": 1.0, "pace": 1.0})
            audio = ScratchVoices.speak(line.text, **params)
            if len(audio) > (end - start) * RATE:
                audio = ScratchVoices.speak(line.text, params["pitch"], params["pace"] * (end - start) * RATE / len(audio))
            speech.append(audio)
        total = int(round(seconds * RATE))
        mix = room_tone(total, stable_int("room", shot.id, shot.prompt))
        subtitles: list[clips.Overlay] = []
        said: list[dict] = []
        warnings: list[str] = []
        for k, (line, audio, (start, end)) in enumerate(zip(shot.dialogue, speech, spans)):
            a = int(start * RATE)
            if a >= total:
                warnings.append(f"line {k + 1} ({line.name}: {line.text[:40]!r}) does not fit the {shot.duration:g}s "
                                "shot and is not heard; lengthen the shot or cut words")
                continue
            piece = audio[: total - a].copy()
            if len(piece) < len(audio):
                fade = min(len(piece), int(0.02 * RATE))
                piece[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
            mix[a:a + len(piece)] += piece
            shown_end = min(end, seconds)
            card = _cropped(draw.draw_subtitle(line.name, line.text, colours.get(line.speaker, "#ffffff"), w, h,
                                               note="V.O." if line.heard_not_seen else line.delivery),
                            work / f"sub{k}.png", start, shown_end)
            if card:
                subtitles.append(card)
            said.append({"speaker": line.speaker, "name": line.name, "text": line.text, "start": start, "end": shown_end})
        for k in overrun:
            if k < len(said) or k < len(spans):
                line = shot.dialogue[k]
                if spans[k][0] * RATE < total:
                    warnings.append(f"line {k + 1} ({line.name}) runs past the end of the {shot.duration:g}s shot "
                                    f"by {spans[k][1] - seconds:.1f}s and is cut; lengthen the shot or cut words")
        write_wav(work / "sound.wav", mix)

        req.report("encoding", 45)
        out = work / "clip.mp4"
        run(clips.animatic_cmd(work / "scene.png", overlays + subtitles, work / "sound.wav", out,
                               w, h, fps, n, panel["camera"]["move"]),
            what=f"animatic of shot '{shot.id}'")
        for f in [work / "scene.png", work / "sound.wav", *(o.png for o in overlays + subtitles)]:
            f.unlink(missing_ok=True)
        return RenderResult(clip=out, model_reported=f"animatic ({shot.model})", dialogue=said, warnings=warnings,
                            extra={"house": clips.house_signature(w, h, fps)})  # joins by stream copy
