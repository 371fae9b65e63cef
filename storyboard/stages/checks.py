"""Lint before spending: semantic errors in a storyboard, and what a backend cannot make."""

from __future__ import annotations

from collections import Counter

from storyboard.common import SCRIPT_WORDS, scripts
from storyboard.errors import Diagnostic
from storyboard.model import Storyboard
from storyboard.model.caps import ModelCaps, segments_for, BackendCaps
from storyboard.model.loaded import Loaded, Positions
from storyboard.model.storyboard import dimensions
from storyboard.model.vocab import nearest, unknown
from storyboard.stages.timeline import beat, dialogue_fit, overlap_after, size_words



def structure(sb: Storyboard, pos: "Positions") -> list[Diagnostic]:
    """Errors no backend can fix: unknown ids, duplicates, impossible continuity. Pure: reads
    nothing but the storyboard."""
    out: list[Diagnostic] = []
    chars, locs = set(sb.characters), set(sb.locations)
    seen = Counter(s.id for s in sb.shots)
    done: set[str] = set()
    for i, shot in enumerate(sb.shots):
        p = ("shots", i)
        if seen[shot.id] > 1 and shot.id in done:
            out.append(pos.diag(p + ("id",), f"duplicate shot id '{shot.id}'; every shot needs its own id"))
        done.add(shot.id)
        if shot.location is not None and shot.location not in locs:
            out.append(pos.diag(p + ("location",), _unknown_id("location", shot.location, locs, shot.id)))
        for j, c in enumerate(shot.characters):
            if c not in chars:
                out.append(pos.diag(p + ("characters", j), _unknown_id("character", c, chars, shot.id)))
        for j, line in enumerate(shot.dialogue):
            lp = p + ("dialogue", j)
            if line.speaker not in chars:
                out.append(pos.diag(lp, _unknown_id("speaker", line.speaker, chars, shot.id)))
            elif line.speaker not in shot.characters and not line.heard_not_seen:
                out.append(pos.diag(lp, f"'{line.speaker}' speaks in shot '{shot.id}' but is not on screen; "
                                        f"add them to its characters, or mark the line (V.O.) or (O.S.)"))
        for key in shot.changes:
            if key not in chars and key not in locs:
                out.append(pos.diag(p + ("changes", key), _unknown_id("character or location", key, chars | locs, shot.id), key=True))
            elif key in chars:
                ch = shot.changes[key]
                bad = [f for f in ("time", "weather", "lighting") if getattr(ch, f) is not None]
                if bad:
                    out.append(pos.diag(p + ("changes", key, bad[0]), f"'{bad[0]}' changes a location, not character '{key}'", key=True))
            else:
                ch = shot.changes[key]
                bad = [f for f in ("wardrobe", "props") if getattr(ch, f) is not None]
                if bad:
                    out.append(pos.diag(p + ("changes", key, bad[0]), f"'{bad[0]}' changes a character, not location '{key}'", key=True))
        if shot.continuity == "continuous" and i == 0:
            out.append(pos.diag(p + ("continuity",), f"shot '{shot.id}' is the first shot, so it cannot continue "
                                                     "a previous one; use continuity: cut"))
        t = sb.transition_after(i)
        if t.overlaps and i + 1 < len(sb.shots):
            nxt = sb.shots[i + 1]
            if t.seconds >= min(shot.duration, nxt.duration):
                out.append(pos.diag(p + ("transition",), f"a {t} from '{shot.id}' ({shot.duration:g}s) into "
                                                         f"'{nxt.id}' ({nxt.duration:g}s) is longer than a shot it joins"))
        if t.kind != "cut" and t.seconds > shot.duration:
            out.append(pos.diag(p + ("transition",), f"the {t} of shot '{shot.id}' is longer than the shot"))
    return out


def _unknown_id(kind: str, value: str, valid: set[str], shot_id: str) -> str:
    hint = nearest(value, sorted(valid))
    msg = f"unknown {kind} '{value}' in shot '{shot_id}'"
    if hint:
        return msg + f"; did you mean '{hint}'?"
    return msg + (f"; defined: {', '.join(sorted(valid))}" if valid else "; none are defined")


def models(sb: Storyboard, pos: "Positions", known: dict[str, ModelCaps]) -> list[Diagnostic]:
    """The storyboard's model against every model the configured backends make."""
    if sb.defaults.model not in known:
        return [pos.diag(("defaults", "model"), unknown("model", sb.defaults.model, known))]
    sizes = known[sb.defaults.model].sizes
    if sb.defaults.size not in sizes:
        return [pos.diag(("defaults", "size"), f"{sb.defaults.model} does not make size "
                                               f"{sb.defaults.size!r}; valid: {', '.join(sizes)}")]
    return []


def for_backend(loaded: Loaded, caps: BackendCaps, known: dict[str, ModelCaps]) -> list[Diagnostic]:
    """Warnings and errors for rendering with one backend: models, lengths, sizes, references, prompts.
    `known` is every model of the configured backends (capabilities.known_models())."""
    sb, pos = loaded.storyboard, loaded.positions
    vocabulary = models(sb, pos, known)
    out: list[Diagnostic] = list(vocabulary)
    model_name, mcaps, warn = caps.model(sb.defaults.model)
    if warn:
        out.append(pos.diag(("defaults", "model"), warn, severity="warning"))
    size = sb.defaults.size
    if not caps.any_size and size not in mcaps.sizes and not vocabulary:
        out.append(pos.diag(("defaults", "size"), f"{model_name} on {caps.name} cannot make {size}; "
                                                  f"valid: {', '.join(mcaps.sizes)}"))
    for i, shot in enumerate(sb.shots):
        p = ("shots", i)
        overlap = overlap_after(sb, i)
        need, overrun = dialogue_fit([beat(line.text, line.at, line.pause) for line in shot.dialogue], shot.duration,
                                     overlap)
        if overrun:  # the same placing as the render's: they agree on what fits
            words = size_words([line.text for line in shot.dialogue])
            under = (f" (the lines end before its {overlap:g}s {sb.transition_after(i).kind} into the next shot)"
                     if overlap else "")
            out.append(pos.diag(p + ("dialogue",), f"the dialogue of shot '{shot.id}' ({words}) needs about "
                                                   f"{need:.1f}s{under} but the shot lasts {shot.duration:g}s; "
                                                   "lengthen the shot or cut words", severity="warning", shot=shot.id))
        seg = segments_for(shot.duration, mcaps, caps.exact_duration)
        if seg.seconds + 1e-9 < shot.duration:
            out.append(pos.diag(p + ("duration",), f"{model_name} makes at most {seg.seconds:g}s and cannot extend; "
                                                   f"shot '{shot.id}' will be {seg.seconds:g}s", shot=shot.id))
        on_screen = list(dict.fromkeys(shot.characters))
        cameos = [c for c in on_screen if sb.characters.get(c) and sb.characters[c].cameo]
        if mcaps.characters and len(cameos) > mcaps.max_characters:
            out.append(pos.diag(p + ("characters",), f"shot '{shot.id}' shows {len(cameos)} characters with cameos; "
                                                     f"{model_name} takes at most {mcaps.max_characters}; "
                                                     f"the others are described in words", severity="warning",
                                shot=shot.id))
        refs = [c for c in on_screen if sb.characters.get(c) and sb.characters[c].reference]
        if mcaps.reference_images and len(refs) > mcaps.reference_images:
            out.append(pos.diag(p + ("characters",), f"shot '{shot.id}' has {len(refs)} reference images; "
                                                     f"{model_name} takes at most {mcaps.reference_images}",
                                severity="warning", shot=shot.id))
    if not caps.draws_references:  # a reference drawn into the picture is not fitted as a frame
        out.extend(_reference_sizes(loaded, size))
    out.extend(_unvoiced(sb, pos, caps.name, mcaps))
    return out


_OFFER = {"JAPANESE": "; pip install 'storyboard[voices-ja]' for a Japanese scratch voice"}


def _unvoiced(sb: Storyboard, pos: "Positions", backend: str, mcaps: ModelCaps) -> list[Diagnostic]:
    """Once per character, at their first such line: lines in a writing system the backend's voice
    cannot read (the animatic's English scratch voice and Chinese or Japanese) are silent."""
    readable = mcaps.voice_reads()
    if not readable:
        return []
    out: list[Diagnostic] = []
    warned: set[str] = set()
    for i, shot in enumerate(sb.shots):
        for k, line in enumerate(shot.dialogue):
            unread = [s for s in scripts(line.text) if s not in readable]
            if not unread or line.speaker in warned:
                continue
            warned.add(line.speaker)
            what = " and ".join(SCRIPT_WORDS.get(s, s.title()) for s in unread)
            reads = ", ".join(SCRIPT_WORDS.get(s, s.title()) for s in readable)
            out.append(pos.diag(("shots", i, "dialogue", k),
                                f"'{line.speaker}' speaks {what} (shot '{shot.id}'), which the {backend} scratch voice "
                                f"cannot read (it reads {reads}): those words are silent, their subtitles timed "
                                f"for reading{_OFFER.get(unread[0], '')}",
                                severity="warning", shot=shot.id))
    return out


def _reference_sizes(loaded: Loaded, size: str) -> list[Diagnostic]:
    """A reference image whose size differs from the film's is fitted: say how."""
    from PIL import Image
    out = []
    w, h = dimensions(size)
    for section in ("characters", "locations"):
        for key, item in getattr(loaded.storyboard, section).items():
            if not item.reference:
                continue
            try:
                with Image.open(loaded.asset(item.reference)) as im:
                    iw, ih = im.size
            except OSError:
                continue
            if (iw, ih) != (w, h):
                how = "scaled" if abs(iw / ih - w / h) < 0.01 else "scaled and padded (letterboxed)"
                out.append(loaded.positions.diag((section, key, "reference"),
                                                 f"reference of {section[:-1]} '{key}' is {iw}x{ih}; it will be {how} "
                                                 f"to {size} where used as a frame", severity="warning"))
    return out
