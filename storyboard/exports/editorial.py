"""The edit for editors: an OpenTimelineIO timeline, and CMX 3600 EDL / FCP XML through its adapters."""

from __future__ import annotations

import re
from pathlib import Path

import opentimelineio as otio

from storyboard.timeline import Timeline


def build_otio(tl: Timeline, title: str, clips: list[dict]) -> otio.schema.Timeline:
    """One video track of the shots with media, in/out points and transitions.

    `clips[i]`: {"path": Path | None, "metadata": {...}} for shot i (None path: a slate / missing)."""
    rate = tl.fps
    timeline = otio.schema.Timeline(name=title or "storyboard")
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    spans = tl.spans
    for i, sp in enumerate(spans):
        # an editor's transition sits centred on the cut: each clip gives up half the overlap
        head, tail = sp.head // 2, sp.tail - sp.tail // 2
        info = clips[i]
        if info.get("path"):
            ref = otio.schema.ExternalReference(
                target_url=Path(info["path"]).resolve().as_uri(),
                available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                        otio.opentime.RationalTime(info.get("frames", sp.length), rate)))
        else:
            ref = otio.schema.MissingReference()
        clip = otio.schema.Clip(name=sp.shot_id, media_reference=ref,
                                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(head, rate),
                                                                     otio.opentime.RationalTime(sp.length - head - tail, rate)))
        clip.metadata["cmx_3600"] = {"reel": re.sub(r"[^A-Za-z0-9]", "", sp.shot_id).upper()[:8] or f"SHOT{i + 1}"}
        clip.metadata["storyboard"] = dict(info.get("metadata", {}), shot_id=sp.shot_id,
                                           transition_out=sp.transition_out, transition_frames=sp.out_frames)
        track.append(clip)
        if sp.overlaps_next and i + 1 < len(spans):
            half_in = sp.out_frames - sp.out_frames // 2
            half_out = sp.out_frames // 2
            track.append(otio.schema.Transition(
                name=sp.transition_out,
                transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve if sp.transition_out == "dissolve"
                else otio.schema.TransitionTypes.Custom,
                in_offset=otio.opentime.RationalTime(half_in, rate),
                out_offset=otio.opentime.RationalTime(half_out, rate)))
    return timeline


def to_string(tl: otio.schema.Timeline, adapter: str) -> str:
    return otio.adapters.write_to_string(tl, adapter_name=adapter)
