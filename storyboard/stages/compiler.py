"""ShotContext -> CompiledShot: the prompt (through templates/) and the parameters of every shot."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2

from storyboard import catalog as capabilities
from storyboard.model.caps import BackendCaps, ModelCaps, segments_for
from storyboard.model.compiled import CharacterUse, CompiledShot, InputReference, Line
from storyboard.model.context import ShotContext
from storyboard.model.loaded import Loaded
from storyboard.stages.continuity import fold

def templates_dir() -> Path:
    """templates/ in a source checkout, storyboard/templates in an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    for d in (package / "templates", package.parent / "templates"):
        if (d / "shot.j2").is_file():
            return d
    raise FileNotFoundError("the prompt templates are missing from this installation")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                              undefined=jinja2.StrictUndefined, autoescape=False,
                              keep_trailing_newline=False, trim_blocks=False, lstrip_blocks=False)


def beats(action: str) -> list[str]:
    """An action as beats: one per sentence (or per '; ' clause)."""
    out = []
    for part in re.split(r"(?<=[.!?])\s+|;\s+", action.strip()):
        part = part.strip()
        if part:
            part = part[0].upper() + part[1:]
            out.append(part if part[-1] in ".!?" else part + ".")
    return out


def render_prompt(ctx: ShotContext, dialogue: list[Line]) -> str:
    shot = ctx.shot
    text = _env().get_template("shot.j2").render(
        style=ctx.style, location=ctx.location, on_screen=ctx.on_screen, camera=shot.camera,
        continues=ctx.previous is not None, beats=beats(shot.action) if shot.action else [],
        dialogue=dialogue, sound=shot.sound.strip(), extra=shot.prompt.strip())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def identities(ctx: ShotContext, caps: BackendCaps, model_caps: ModelCaps) -> list[CharacterUse]:
    """The identity ladder: a native character, else a reference image, else the words alone.

    Backends with subject references (Veo) take several; a backend with one image reference
    (Sora) takes one character's still as the shot's first frame, unless the shot continues
    the previous one (its last frame wins). A backend that draws references takes them all."""
    uses: list[CharacterUse] = []
    native = refs = 0
    if caps.draws_references:
        ref_slots = len(ctx.on_screen)
    elif model_caps.reference_images:
        ref_slots = model_caps.reference_images
    else:
        ref_slots = 1 if model_caps.image_reference and ctx.previous is None else 0
    for c in ctx.on_screen:
        if model_caps.characters and c.cameo and native < model_caps.max_characters:
            uses.append(CharacterUse(id=c.id, name=c.name, identity="native", source=c.cameo))
            native += 1
        elif c.reference and refs < ref_slots:
            uses.append(CharacterUse(id=c.id, name=c.name, identity="reference", source=c.reference))
            refs += 1
        else:
            uses.append(CharacterUse(id=c.id, name=c.name, identity="words"))
    return uses


def compile_storyboard(loaded: Loaded, backend: str = "animatic",
                       contexts: list[ShotContext] | None = None) -> list[CompiledShot]:
    """Every shot of the storyboard compiled for one backend. Pure: same input, same bytes."""
    sb = loaded.storyboard
    caps = capabilities.get(backend)
    model, mcaps, model_warning = caps.model(sb.defaults.model)
    out: list[CompiledShot] = []
    for ctx in contexts if contexts is not None else fold(sb):
        shot = ctx.shot
        warnings: list[str] = [model_warning] if model_warning and ctx.index == 0 else []
        lines = [Line(speaker=d.speaker, name=sb.character_name(d.speaker), text=d.text, delivery=d.delivery,
                      heard_not_seen=d.heard_not_seen) for d in shot.dialogue]
        prompt = render_prompt(ctx, lines)
        if len(prompt) > mcaps.prompt_max_chars:
            warnings.append(f"the prompt is {len(prompt)} characters; {model} reads at most {mcaps.prompt_max_chars}")
        seg = segments_for(shot.duration, mcaps, caps.exact_duration)
        uses = identities(ctx, caps, mcaps)
        ref: InputReference | None = None
        if ctx.previous:
            if mcaps.image_reference:
                ref = InputReference(kind="previous_last_frame", shot=ctx.previous)
            else:
                warnings.append(f"{model} takes no image reference; the continuity is in words only")
        elif mcaps.image_reference and not mcaps.reference_images and not caps.draws_references:
            still = next((u.source for u in uses if u.identity == "reference"), None)
            if still is None and ctx.location and ctx.location.reference:
                still = ctx.location.reference
            if still:
                ref = InputReference(kind="file", path=still)
        ref_images: list[str] = []
        if mcaps.reference_images:
            ref_images = [u.source for u in uses if u.identity == "reference" and u.source]
            if ctx.location and ctx.location.reference and len(ref_images) < mcaps.reference_images:
                ref_images.append(ctx.location.reference)
        if seg.extensions and any(u.identity == "native" for u in uses):
            warnings.append("extensions take no characters; only the first "
                            f"{seg.base:g}s carry the native characters")
        if seg.seconds > shot.duration + 1e-9:
            warnings.append(f"{model} makes {seg.seconds:g}s for this {shot.duration:g}s shot; "
                            f"{seg.seconds - shot.duration:g}s is trimmed in the cut")
        out.append(CompiledShot(
            id=shot.id, index=ctx.index, prompt=prompt, duration=shot.duration, seconds=seg.seconds,
            segments=[seg.base, *seg.extensions], size=sb.defaults.size, model=model, backend=caps.name,
            fps=sb.defaults.fps, input_reference=ref, reference_images=ref_images, characters=uses,
            depends_on=[ctx.previous] if ctx.previous else [], dialogue=lines, warnings=warnings))
    return out
