"""The offline animatic, the default backend: every shot drawn (set, figures, look), moved by its camera,
voiced and given its sound bed, with no API key.

    panel.py     what a shot draws and voices (typed; its key() is in the cache key)
    framing.py   head sizes, horizons, where the characters stand
    canvas.py    the world larger than the frame, for the camera to travel over
    world.py     the set: sky, ground, walls, the pieces the place's words name, light and fog
    figures.py   the characters as mannequins; an insert's object; a point of view's hands
    chips.py     name chips and captions by the figures
    weather.py   rain, snow, lightning, a point of view's vignette (laid on the frame)
    compose.py   a whole shot's drawing from those
    camera.py    the moves, and the one ffmpeg command that films the drawing
    look.py      words -> garments, hair, props, set pieces, sky, weather
    voices.py    scratch voices; ambience.py the sound beds
    backend.py   the Backend the renderer drives

The exports use `preview` and `preview_name` (not the backend class) for shots with no clip."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PIL import Image

    from storyboard.model.compiled import CompiledShot
    from storyboard.model.context import ShotContext


def preview(shot: "CompiledShot", ctx: "ShotContext", asset: Callable[[str], Path], width: int,
            height: int) -> "Image.Image":
    """The first frame the animatic would render for a shot, without rendering the shot."""
    from storyboard.animatic.backend import AnimaticBackend
    return AnimaticBackend.opening_picture(shot, ctx, asset, width, height)


def preview_name(shot: "CompiledShot", ctx: "ShotContext") -> str:
    """A name that changes exactly when what the preview draws changes (the panel and its files)."""
    from storyboard.animatic.backend import AnimaticBackend
    from storyboard.common import digest
    return digest(AnimaticBackend.key_extra(shot, ctx))[:20]
