"""The offline animatic: every shot as a real clip a pre-vis artist can read. The framing sizes and
crops the figures, the angle moves the horizon and foreshortens them, the move travels the camera
over the drawn world; characters stand apart, dressed as the story has them, and light up while
they speak in voices of their own; the weather falls and flashes, the sound bed follows the
`sound:` words. Free, deterministic, and first-class: it caches like any backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from storyboard.animatic import ambience, camera
from storyboard.animatic.compose import Composition, compose, take_seed
from storyboard.animatic.framing import DUTCH
from storyboard.animatic.panel import Panel, camera_words, panel_for as _panel_for
from storyboard.animatic.camera import Layer, between
from storyboard.animatic.voices import JOE, RATE, ScratchVoices, VoiceProcess
from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.common import stable_int
from storyboard.errors import StoryboardError
from storyboard.draw import cards as text
from storyboard.media import clips
from storyboard.media.ffmpeg import run
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.stages.timeline import beat, place_lines, frames as to_frames

LOOK = 7  # the animatic's drawing and voicing, versioned: a new look renders clips anew (3: CJK lines timed and
# silent; 4: text to the last frame, takes redrawn, children framed, words folded, raw layers, the fast AAC coder;
# 5: the house encode at a constant quantiser, qp 23, not crf 23; 6: a character with no `wardrobe:` wears what
# their description names, "a paramedic in a soaked red jacket" a red jacket, not a top of their colour; 7: name
# chips stay in the frame through a pan, a truck or a handheld move, their captions cut to the room the move leaves)
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


def write_pcm(path: Path, mono: np.ndarray) -> None:
    """The scratch track as raw 16-bit stereo at RATE (camera.PCM): what a WAV holds, without the
    header that ffmpeg would probe (its probe of a WAV's samples cost more than encoding a shot's sound)."""
    pcm = (np.clip(mono, -1, 1) * 32767).astype("<i2")
    path.write_bytes(np.repeat(pcm[:, None], 2, axis=1).tobytes())


def _raw(im: Image.Image, path: Path, x: int | str = 0, y: int | str = 0, enable: str | None = None,
         crop: bool = True) -> Layer | None:
    """A transparent layer as raw RGBA pixels (no compression to undo), cut to the part that shows
    when `crop`; None when nothing shows."""
    if crop:
        box = im.getbbox()
        if box is None:
            return None
        x0, y0 = box[0] & ~1, box[1] & ~1  # even offsets: yuv420p chroma lines up
        im = im.crop((x0, y0, box[2], box[3]))
        x, y = x + x0, y + y0
    im = im.convert("RGBA")
    path.write_bytes(im.tobytes())
    return Layer(path, x, y, enable, size=im.size)


def _world(im: Image.Image, path: Path) -> Layer:
    im = im.convert("RGB")
    path.write_bytes(im.tobytes())
    return Layer(path, size=im.size, pix_fmt="rgb24")


def _window(start: float, end: float) -> str:
    return f"gte(t,{start:.3f})*lt(t,{end:.3f})"


def panel_for(shot: CompiledShot, ctx: ShotContext) -> Panel:
    """Everything the animatic draws and voices for one shot, in this look."""
    return _panel_for(shot, ctx, LOOK)


class AnimaticBackend(Backend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.voices = VoiceProcess()  # the voices' memory lives and ends in a child process

    def ahead(self, jobs, report=lambda shot, state: None) -> None:
        """Voice every line of these jobs first, and end the voices' process, so that their memory is
        never held beside the drawing and the encoders. A line not voiced here is voiced when its shot
        is. Each shot is shown "voicing" while its lines are said, then "queued" again."""
        lines, whose = [], []
        for job in jobs:
            if job.group is not None:
                continue
            seconds = to_frames(job.shot.duration, job.shot.fps) / job.shot.fps
            panel = panel_for(job.shot, job.context)
            spans, _ = self.line_spans(panel, seconds)
            said = [(ln.text, ln.voice or JOE, end - start, ln.delivery)
                    for ln, (start, end) in zip(panel.dialogue, spans) if int(start * RATE) < int(round(seconds * RATE))]
            lines += said
            whose += [job.shot.id] * len(said)
        shown = [""]

        def told(i: int) -> None:  # the i-th line is being voiced (len(lines): all are done)
            sid = whose[i] if i < len(whose) else ""
            if sid != shown[0]:
                if shown[0]:
                    report(shown[0], "queued")
                if sid:
                    report(sid, "voicing")
                shown[0] = sid
        try:
            self.voices.speak_all(lines, told)
        except StoryboardError:
            pass  # each shot asks again for its lines, and fails on its own with the reason
        finally:
            told(len(whose))

    def close(self) -> None:
        self.voices.close()

    @classmethod
    def key_extra(cls, shot: CompiledShot, ctx: ShotContext) -> dict:
        """The drawn panel and the spoken lines shape the clip: both are in its key."""
        panel = panel_for(shot, ctx)
        return {"panel": panel.key(), "assets": panel.assets}

    def render(self, req: RenderRequest) -> RenderResult:
        if req.job.group is not None:
            return self._group(req)
        shot = req.shot
        w, h = shot.dimensions
        fps = shot.fps
        n = to_frames(shot.duration, fps)
        seconds = n / fps
        work = req.workdir
        panel = panel_for(shot, req.job.context)
        req.report("drawing", 5)
        rig, comp, world, world_layers, screen_layers, text_layers, spans, overrun = self._picture(
            panel, w, h, fps, n, req.asset, work, take=req.job.take)

        req.report("voicing", 25)
        said, warnings, mix = self._sound(panel, spans, overrun, seconds, comp.flashes, shot, self.voices.speak)
        write_pcm(work / "sound.pcm", mix)

        opening = None
        if panel.continues and req.input_image is not None:  # the previous shot's last frame: picture only, no text
            with Image.open(req.input_image) as im:
                opening = _world(im, work / "opening.rgb")

        req.report("encoding", 45)
        out = work / "clip.mp4"
        run(camera.animatic_cmd(world, rig, work / "sound.pcm", out, w, h, fps, n,
                                world_layers, screen_layers, text_layers, opening),
            what=f"animatic of shot '{shot.id}'")
        last = work / "last.png"  # the picture a continuous shot after this one starts from: no text
        camera.picture_at(n - 1, fps, comp.world, rig, w, h, self._images(comp, world_layers),
                          self._images(comp, screen_layers, screen=True)).save(last, compress_level=1)
        for f in [work / "sound.pcm", *(layer.file for layer in (world, *world_layers, *screen_layers, *text_layers,
                                                                   *([opening] if opening else [])))]:
            f.unlink(missing_ok=True)
        return RenderResult(clip=out, model_reported=f"animatic ({shot.model})", dialogue=said, warnings=warnings,
                            extra={"house": clips.house_signature(w, h, fps)},  # joins by stream copy
                            last_frame=last)

    def _group(self, req: RenderRequest) -> RenderResult:
        """A multi-shot group (issue 25) as one clip, as a model would make it: each shot's panel at the
        length the request asks of it, joined by hard cuts (stream copy: the parts share the house format)."""
        import dataclasses

        from storyboard.media.ffmpeg import ConcatEntry, compile as compile_cmd, concat_input, concat_script, safe_path
        g = req.job.group
        parts, said, warnings = [], [], []
        start = 0.0
        for k, (m, sent) in enumerate(zip(g.members, g.sent)):
            work = req.workdir / f"part{k}"
            work.mkdir()
            shot = m.model_copy(update={"duration": sent, "seconds": sent, "segments": [sent]})
            job = dataclasses.replace(req.job, shot=shot, group=None, context=g.contexts[k] if g.contexts else req.job.context)
            sub = dataclasses.replace(req, job=job, workdir=work, input_image=req.input_image if k == 0 else None,
                                      report=lambda state, pct=None, k=k: req.report(
                                          state, None if pct is None else (100 * k + pct) / len(g.members)))
            made = self.render(sub)
            parts.append(made.clip)
            said += [{**line, "start": line["start"] + start, "end": line["end"] + start} for line in made.dialogue]
            warnings += [f"{m.id}: {w}" for w in made.warnings]
            start += to_frames(sent, m.fps) / m.fps
        out = req.workdir / "clip.mp4"
        listing = concat_script([ConcatEntry(p) for p in parts])
        import ffmpeg as ff
        run(compile_cmd(ff.output(concat_input(listing), safe_path(out), c="copy"),
                        f"joining the animatic of group '{g.name}'", 60 + 10 * len(parts)),
            what=f"animatic of group '{g.name}'")
        w, h = req.shot.dimensions
        return RenderResult(clip=out, model_reported=f"animatic ({req.shot.model}, {len(parts)} shots)", dialogue=said,
                            warnings=warnings, extra={"house": clips.house_signature(w, h, req.shot.fps)})

    @classmethod
    def _picture(cls, panel: Panel, w: int, h: int, fps: int, n: int, asset, work: Path, take: int | None = None):
        """Everything the picture is made of: the camera rig, the drawn world and its layers, and
        where each line is spoken (which lights its speaker). A take after the first is redrawn:
        the figures stand a little elsewhere and the camera drifts; the HUD names the take."""
        seconds = n / fps
        cam = panel.camera
        rig = camera.rig(cam.move, n, w, h, fps, tilt=DUTCH if cam.angle == "dutch" else 0.0)
        if take is not None and take > 1:
            rig = camera.drift(rig, n, w, h, take_seed(panel.id, take))
        lines = panel.dialogue
        spans, overrun = cls.line_spans(panel, seconds)
        speaking: dict[str, list[tuple[float, float]]] = {}
        for ln, (start, end) in zip(lines, spans):
            if ln.on_screen and start < seconds:
                speaking.setdefault(ln.speaker, []).append((start, min(end, seconds)))
        portraits = {cid: asset(p) for cid, p in panel.portraits}
        loc_image = asset(panel.location_image) if panel.location_image else None
        comp = compose(panel, w, h, rig, seconds, speaking, portraits, loc_image, take=take or 1)
        world = _world(comp.world, work / "world.rgb")
        world_layers = cls._figure_layers(comp, rig, speaking, work)
        screen_layers = cls._screen_layers(comp, w, h, work)
        text_layers = cls._text_layers(panel, spans, seconds, fps, w, h, work, take)
        return rig, comp, world, world_layers, screen_layers, text_layers, spans, overrun

    @staticmethod
    def line_spans(panel: Panel, seconds: float):
        """Where each line is spoken, and which overrun: the cut's one rule (timeline.place_lines)."""
        return place_lines([beat(ln.text, ln.at, ln.pause) for ln in panel.dialogue], seconds, panel.overlap)

    @classmethod
    def opening_picture(cls, shot: CompiledShot, ctx: ShotContext, asset, width: int, height: int):
        """The first frame the animatic would render for a shot, made by the same drawing and the
        same ffmpeg graph, one frame long and silent: the review page and the boards show it for
        shots that have no clip."""
        import tempfile

        import av
        with tempfile.TemporaryDirectory(prefix="opening-") as tmp:
            work = Path(tmp)
            n = to_frames(shot.duration, shot.fps)
            panel = panel_for(shot, ctx)
            rig, _, world, world_layers, screen_layers, text_layers, _, _ = cls._picture(
                panel, width, height, shot.fps, n, asset, work)
            write_pcm(work / "sound.pcm", np.zeros(RATE // shot.fps + 1, dtype=np.float32))
            out = work / "first.mp4"
            run(camera.animatic_cmd(world, rig, work / "sound.pcm", out, width, height, shot.fps, 1,
                                    world_layers, screen_layers, text_layers, None),
                what=f"the opening picture of shot '{shot.id}'")
            with av.open(str(out), options={"protocol_whitelist": "file"}) as c:
                return next(c.decode(video=0)).to_image()

    @staticmethod
    def _images(comp: Composition, layers: list[Layer], screen: bool = False) -> list[tuple[Image.Image, Layer]]:
        """The drawn images behind raw layers, in order."""
        images = [im for _, im in comp.screen] if screen else [sp.image for sp in comp.sprites]
        return list(zip(images, layers))

    @staticmethod
    def _figure_layers(comp: Composition, rig: camera.Rig, speaking: dict, work: Path) -> list[Layer]:
        """Figures that move against the world, and speakers lit while they speak."""
        layers = []
        dx, dy = rig.follow or ("0", "0")
        for k, sp in enumerate(comp.sprites):
            x = f"{sp.x}+{dx}" if sp.rides else sp.x
            y = f"{sp.y}+{dy}" if sp.rides else sp.y
            when = []
            if sp.state is not None:
                when.append(_window(*sp.state))
            if sp.lit:
                when.append("+".join(between(a, b) for a, b in speaking.get(sp.who, [])) or "0")
            enable = "*".join(f"({x_})" for x_ in when) if when else None
            layers.append(_raw(sp.image, work / f"fig{k}.rgba", x, y, enable, crop=False))
        return layers

    @staticmethod
    def _screen_layers(comp: Composition, w: int, h: int, work: Path) -> list[Layer]:
        layers = []
        for kind, im in comp.screen:
            path = work / f"screen-{kind}.rgba"
            if kind == "rain":
                layers.append(_raw(im, path, 0, f"-{h}+mod(n*{max(1, int(h * 0.045))},{h})", crop=False))
            elif kind == "snow":
                layers.append(_raw(im, path, f"{max(2, w // 200)}*sin(n/13)", f"-{h}+mod(n*{max(1, int(h * 0.006))},{h})",
                                   crop=False))
            elif kind == "flash":
                layers.append(_raw(im, path, 0, 0, "+".join(f"{between(t, t + 0.09)}+{between(t + 0.17, t + 0.23)}"
                                                            for t in comp.flashes), crop=False))
            else:
                layers.append(_raw(im, path, crop=False))
        return layers

    @staticmethod
    def _text_layers(panel: Panel, spans, seconds: float, fps: int, w: int, h: int, work: Path,
                     take: int | None = None) -> list[Layer]:
        """The HUD (its top band and its sound line apart: nothing to blend between them), and each
        line's card while it is spoken."""
        placed = text.hud_layout(w, h, panel.id, camera_words(panel), panel.place, panel.action, panel.sound, take)
        hud = text.draw_hud(w, h, placed)
        foot = int(text.zones(w, h).sound.y0) & ~1
        layers = [_raw(hud.crop((0, 0, w, foot)), work / "hud-top.rgba"),
                  _raw(hud.crop((0, foot, w, h)), work / "hud-foot.rgba", 0, foot)]
        colours = {c.id: c.colour for c in panel.characters}
        for k, (ln, (start, end)) in enumerate(zip(panel.dialogue, spans)):
            if start >= seconds:
                continue
            card = text.draw_subtitle(ln.name, ln.text, colours.get(ln.speaker, "#ffffff"), w, h,
                                      note=", ".join(x for x in (ln.mark, ln.delivery) if x))
            layers.append(_raw(card, work / f"sub{k}.rgba", enable=between(start, min(end, seconds))))
        return [layer for layer in layers if layer is not None]

    @staticmethod
    def _sound(panel: Panel, spans, overrun, seconds: float, flashes: list[float], shot: CompiledShot,
               speak=ScratchVoices.speak):
        """Room tone, the `sound:` bed (ducked under speech), and every line in its character's voice,
        each lasting exactly the shared estimate of its speaking time."""
        total = int(round(seconds * RATE))
        mix = room_tone(total, stable_int("room", panel.id, panel.sound))
        bed = ambience.bed(panel.sound, seconds, RATE, flashes)
        duck = np.ones(total, dtype=np.float32)
        said: list[dict] = []
        warnings: list[str] = []
        for k, (ln, (start, end)) in enumerate(zip(panel.dialogue, spans)):
            a = int(start * RATE)
            if a >= total:
                warnings.append(f"line {k + 1} ({ln.name}: {ln.text[:40]!r}) starts after the end of the "
                                f"{shot.duration:g}s shot and is not heard; lengthen the shot or move the line")
                continue
            audio = speak(ln.text, ln.voice or JOE, end - start, ln.delivery)
            piece = audio[: total - a].copy()
            if len(piece) < len(audio):
                fade = min(len(piece), int(0.02 * RATE))
                piece[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
            mix[a:a + len(piece)] += piece
            lo, hi = max(0, a - int(0.15 * RATE)), min(total, a + len(piece) + int(0.25 * RATE))
            duck[lo:hi] = 10 ** (DUCK_DB / 20)
            said.append({"speaker": ln.speaker, "name": ln.name, "text": ln.text, "start": start,
                         "end": min(end, seconds)})
            if k in overrun and end > seconds:
                warnings.append(f"line {k + 1} ({ln.name}) runs past the end of the {shot.duration:g}s shot "
                                f"by {end - seconds:.1f}s and is cut; lengthen the shot or cut words")
            elif k in overrun:
                warnings.append(f"line {k + 1} ({ln.name}) runs {end - seconds + panel.overlap:.1f}s under the "
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
