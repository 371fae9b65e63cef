"""The fold that carries state from shot to shot: who is where, wearing what, in which light."""

from __future__ import annotations

from dataclasses import replace

from storyboard.model import Storyboard
from storyboard.model.context import CharacterState, LocationState, ShotContext
from storyboard.stages.timeline import overlap_after


def initial_state(sb: Storyboard) -> tuple[dict[str, CharacterState], dict[str, LocationState]]:
    """The state at the top of the film: the bible's (merged) descriptions."""
    chars = {cid: CharacterState(cid, sb.character_name(cid), c.description, c.wardrobe, c.props, c.voice,
                                 c.reference, c.cameo) for cid, c in sb.characters.items()}
    locs = {lid: LocationState(lid, l.name or lid.replace("_", " "), l.description, l.time, l.weather,
                               l.lighting, l.reference) for lid, l in sb.locations.items()}
    return chars, locs


def fold(sb: Storyboard) -> list[ShotContext]:
    """One ShotContext per shot; a shot's `changes` hold from that shot until changed again."""
    chars, locs = initial_state(sb)
    cast = tuple(chars.values())
    out: list[ShotContext] = []
    for i, shot in enumerate(sb.shots):
        for key, change in shot.changes.items():
            fields = {k: v for k, v in change.model_dump().items() if v is not None}
            if key in chars:
                chars[key] = replace(chars[key], **{k: v for k, v in fields.items() if k in ("description", "wardrobe", "props")})
            elif key in locs:
                locs[key] = replace(locs[key], **{k: v for k, v in fields.items() if k in ("description", "time", "weather", "lighting")})
        on_screen = tuple(chars[c] for c in dict.fromkeys(shot.characters) if c in chars)
        seen = {c.id for c in on_screen}
        heard = tuple(chars[d.speaker] for d in shot.dialogue if d.speaker in chars and d.speaker not in seen)
        heard = tuple(dict((c.id, c) for c in heard).values())
        out.append(ShotContext(
            index=i, shot=shot, style=sb.style.strip(),
            location=locs.get(shot.location) if shot.location else None,
            on_screen=on_screen, heard=heard,
            previous=sb.shots[i - 1].id if shot.continuity == "continuous" and i > 0 else None, cast=cast,
            overlap_out=overlap_after(sb, i)))
    return out
