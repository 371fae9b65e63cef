"""Lint before spending: semantic errors in a storyboard, and what a backend cannot make."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from storyboard.catalog import fit_for, no_fit_message
from storyboard.common import SCRIPT_WORDS, scripts
from storyboard.errors import Diagnostic
from storyboard.model import Storyboard
from storyboard.model.caps import BackendCaps, ModelCaps, fit_size, segments_for
from storyboard.model.loaded import Loaded, Positions
from storyboard.model.storyboard import dimensions
from storyboard.model.vocab import nearest, unknown
from storyboard.stages import grouping
from storyboard.stages.timeline import beat, dialogue_fit, overlap_after, size_words

if TYPE_CHECKING:
    from typing import Callable

    from storyboard.model.compiled import CompiledShot


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
        joins = t.overlaps and i + 1 < len(sb.shots)
        if joins and t.seconds >= min(shot.duration, sb.shots[i + 1].duration):
            nxt = sb.shots[i + 1]
            out.append(pos.diag(p + ("transition",), f"a {t} from '{shot.id}' ({shot.duration:g}s) into "
                                                     f"'{nxt.id}' ({nxt.duration:g}s) is longer than a shot it joins"))
        elif t.kind != "cut" and t.seconds > shot.duration:  # one message a transition
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
    if fit_size(sb.defaults.size, sizes) is None:  # the film's size is delivered: only its shape must be made
        return [pos.diag(("defaults", "size"), no_fit_message(sb.defaults.model, sb.defaults.size, sizes))]
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
    fit = fit_for(caps, mcaps, size)
    if fit is None and not vocabulary:
        out.append(pos.diag(("defaults", "size"), no_fit_message(model_name, size, mcaps.sizes, caps.name)))
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
        ending = shot.transition if i + 1 == len(sb.shots) else None  # written on the last shot: into nothing
        if ending is not None and ending.kind not in ("cut", "fade-to-black"):
            out.append(pos.diag(p + ("transition",), f"the {ending} of shot '{shot.id}' has no shot after it to go into, "
                                                     "so the film ends on a cut; to end on black write "
                                                     f"`transition: fade-to-black {ending.seconds:g}s`",
                                severity="warning", shot=shot.id))
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
    out.extend(_groups(sb, pos, caps, mcaps, model_name, known))
    return out


def _groups(sb: Storyboard, pos: "Positions", caps: BackendCaps, mcaps: ModelCaps, model: str,
            known: dict[str, ModelCaps]) -> list[Diagnostic]:
    """Where the storyboard asks for multi-shot groups: why a shot could not join the shot before it."""
    if not grouping.wanted(sb):
        return []
    if caps.any_model:  # the animatic stands in for the named model: it groups as that model would
        mcaps = known.get(sb.defaults.model, mcaps)
    if mcaps.multi_shot is None:
        where = (("defaults", "multi_shot") if sb.defaults.multi_shot != "off"
                 else ("shots", next(i for i, s in enumerate(sb.shots) if s.group is not None), "group"))
        able = [n for n, m in caps.models.items() if m.multi_shot is not None]
        return [pos.diag(where, f"{model} on {caps.name} makes one shot per request, so every shot is its own "
                                "request" + (f"; models that make several: {', '.join(able)}" if able else ""),
                         severity="warning")]
    groups, apart = grouping.form(sb, mcaps, model)
    out = [pos.diag(("shots", a.index), str(a), severity=a.severity, shot=a.shot) for a in apart]
    for g in groups:  # one request, one take count: the first pin holds for the whole group
        pinned = [(i, sb.shots[i]) for i in g.indices if sb.shots[i].take is not None]
        for i, s in pinned[1:]:
            first = pinned[0][1]
            if s.take != first.take:
                out.append(pos.diag(("shots", i, "take"), f"shot '{s.id}' pins take {s.take} but '{first.id}' pins "
                                                          f"take {first.take}, and one request makes "
                                                          f"{' + '.join(g.shots)}: they share their takes, so the cut "
                                                          f"uses take {first.take} of all of them; pin one take",
                                    severity="warning", shot=s.id))
    return out


def pre_spend(loaded: "Loaded", caps: "BackendCaps", shots: "list[CompiledShot]",
              extra: "Callable[[CompiledShot, ModelCaps], list[str]] | None" = None) -> list[Diagnostic]:
    """What a backend would fail only after the money is committed, refused before: a first frame where
    the model needs one, more references than it takes, a length it cannot make, a character's face as
    the first frame of a model known to refuse faces. Every limit is table data; `extra` is the
    backend's own hook (Backend.pre_spend) for what its table says beyond these. Pure."""
    pos = loaded.positions
    out: list[Diagnostic] = []
    for shot in shots:
        p = ("shots", shot.index)
        _, m, _ = caps.model(shot.model)
        first = shot.input_reference
        if m.needs_first_frame and first is None:
            out.append(pos.diag(p, f"{shot.model} makes video only from a first frame, and shot '{shot.id}' has "
                                   "none: give an on-screen character or the location a reference image, make the "
                                   "shot continuous, or choose a model that makes video from text", shot=shot.id))
        if len(shot.reference_images) > m.reference_images:
            out.append(pos.diag(p, f"shot '{shot.id}' sends {len(shot.reference_images)} reference images; "
                                   f"{shot.model} takes at most {m.reference_images}", shot=shot.id))
        longest = m.max_seconds or max(m.durations or [0])
        if not caps.exact_duration and m.durations and shot.segments[0] not in m.durations:
            out.append(pos.diag(p, f"{shot.model} makes clips of {', '.join(f'{d:g}' for d in m.durations)}s, "
                                   f"not {shot.segments[0]:g}s (shot '{shot.id}')", shot=shot.id))
        elif longest and not m.extension_durations and shot.segments[0] > longest + 1e-9:
            out.append(pos.diag(p, f"{shot.model} makes at most {longest:g}s in one job", shot=shot.id))
        if m.refuses_faces and first is not None:
            faces = [u.name for u in shot.characters if u.identity == "reference" and u.source == first.path]
            if first.kind == "file" and faces:
                out.append(pos.diag(p, f"{shot.model} refuses a photoreal face in a first frame (after payment), and "
                                       f"shot '{shot.id}' would start on {faces[0]}'s reference image: describe "
                                       "them in words, or choose a model that takes faces", shot=shot.id))
            elif first.kind == "previous_last_frame" and shot.characters:
                out.append(pos.diag(p, f"shot '{shot.id}' continues from the closing picture of '{first.shot}'; if "
                                       f"that shows a face, {shot.model} refuses it (and may still charge)",
                                    severity="warning",
                                    shot=shot.id))
        if extra is not None:
            out.extend(pos.diag(p, msg, shot=shot.id) for msg in extra(shot, m))
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
