"""From rendered (or missing) shots to the final cut and every export, all written atomically."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image

from storyboard.backends import panel as draw
from storyboard.cache import Entry
from storyboard.exports import editorial, subtitles
from storyboard.fsutil import atomic_write_json, atomic_write_text, publish, temp_name
from storyboard.loader import Loaded
from storyboard.media import assemble, clips
from storyboard.media.ffmpeg import run
from storyboard.media.probe import probe
from storyboard.renderer import Outcome
from storyboard.timeline import Timeline, build, estimated_lines
from storyboard.timeline import frames as to_frames


@dataclass(frozen=True)
class CutResult:
    final: Path
    timeline: Timeline
    files: dict[str, Path]


def house_source(entry: Entry, frames: int, width: int, height: int, fps: int) -> Path:
    """The entry's clip in the house format at exactly `frames`: the clip itself when it already is,
    else a conformed copy kept beside it in the cache (made once, published atomically)."""
    target = entry.folder / f"house-{width}x{height}@{fps}-{frames}.mp4"
    if target.exists():
        return target
    info = probe(entry.clip)
    if entry.meta.get("house") == clips.house_signature(width, height, fps) and info.frames == frames:
        return entry.clip
    tmp = temp_name(target)
    run(assemble.conform_cmd(entry.clip, tmp, width, height, fps, frames, info.audio_streams > 0),
        what=f"conforming shot '{entry.meta.get('shot', entry.key[:8])}'")
    publish(tmp, target)
    return target


def slate_source(work: Path, number: int, shot_id: str, reason: str, frames: int, width: int, height: int,
                 fps: int) -> Path:
    png = work / f"slate{number:03d}.png"
    draw.draw_slate(number, shot_id, reason, width, height).save(png)
    out = work / f"slate{number:03d}.mp4"
    run(assemble.slate_cmd(png, out, fps, frames), what=f"slate for shot '{shot_id}'")
    return out


def subtitle_cards(tl: Timeline, work: Path, colours: dict[str, str]) -> Path:
    """The cues as one stream of transparent cards (concat list of PNGs with durations)."""
    blank = work / "sub_blank.png"
    Image.new("RGBA", (tl.width, tl.height), (0, 0, 0, 0)).save(blank)
    lines, t = [], 0.0
    for k, cue in enumerate(tl.cues):
        start, end = float(cue.start), float(cue.end)
        if start > t:
            lines += ["file 'sub_blank.png'", f"duration {start - t:.4f}"]
        card = work / f"sub{k:04d}.png"
        draw.draw_subtitle(cue.speaker, cue.text, colours.get(cue.speaker, "#ffffff"), tl.width, tl.height).save(card)
        lines += [f"file '{card.name}'", f"duration {end - max(start, t):.4f}"]
        t = end
    lines += ["file 'sub_blank.png'", f"duration {max(0.1, float(tl.duration) - t):.4f}", "file 'sub_blank.png'"]
    path = work / "subs.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def make(loaded: Loaded, outcomes: dict[str, Outcome], out_dir: Path, loudness: float = -14.0,
         burn_subtitles: bool = False, on_step: Callable[[str], None] = lambda s: None) -> CutResult:
    sb = loaded.storyboard
    fps, width, height = sb.defaults.fps, sb.defaults.width, sb.defaults.height
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=out_dir))
    try:
        sources: list[Path] = []
        keyframes_of: dict[int, list[int]] = {}
        dialogue: dict[str, list[dict]] = {}
        shot_rows = []
        on_step("conforming clips")
        for i, shot in enumerate(sb.shots):
            o = outcomes[shot.id]
            n = to_frames(shot.duration, fps)
            if o.entry is not None:
                src = house_source(o.entry, n, width, height, fps)
                lines = o.entry.meta.get("dialogue") or None
            else:
                src = slate_source(work, i + 1, shot.id, o.reason or o.status, n, width, height, fps)
                lines = None
            sources.append(src)
            keyframes_of[i] = assemble.keyframes(src, fps)
            if lines is None:
                lines = estimated_lines([{"speaker": d.speaker, "name": sb.character_name(d.speaker), "text": d.text}
                                         for d in shot.dialogue], shot.duration)
            dialogue[shot.id] = lines
            t = sb.transition_after(i)
            shot_rows.append((shot.id, shot.duration, t.kind, t.seconds))
        tl = build(shot_rows, fps, width, height, dialogue)
        cid_by_name = {sb.character_name(c): c for c in sb.characters}
        colours = {name: draw.character_colour(cid) for name, cid in cid_by_name.items()}
        cards = subtitle_cards(tl, work, colours) if burn_subtitles and tl.cues else None
        music = loaded.asset(sb.music) if sb.music else None
        final = out_dir / "final.mp4"
        tmp = temp_name(final)
        assemble.make_cut(tl, sources, work, tmp, music=music, loudness=loudness, subtitle_cards=cards,
                          keyframes_of=keyframes_of, on_step=on_step)
        on_step("checking the cut")
        info = probe(tmp)
        if info.frames and info.frames != tl.total_frames:
            raise assemble.MediaError(f"the cut has {info.frames} frames, the timeline {tl.total_frames}")
        publish(tmp, final)
        files = {"final.mp4": final}
        on_step("writing exports")
        atomic_write_text(out_dir / "final.srt", subtitles.srt(tl.cues))
        atomic_write_text(out_dir / "final.vtt", subtitles.vtt(tl.cues))
        clip_info = []
        for shot, src in zip(sb.shots, sources):
            o = outcomes[shot.id]
            meta = o.meta
            # the house-format source the cut used: in the cache, at the cut's rate, exactly the shot's frames
            clip_info.append({"path": src if o.entry else None, "frames": to_frames(shot.duration, fps),
                              "metadata": {"prompt": o.job.shot.prompt, "backend": meta.get("backend", o.job.shot.backend),
                                           "model": meta.get("model_reported", o.job.shot.model),
                                           "job_id": meta.get("job_id"), "cost": meta.get("cost", 0.0),
                                           "status": o.status, "take": o.job.take}})
        otl = editorial.build_otio(tl, sb.title, clip_info)
        for name, adapter in (("timeline.otio", "otio_json"), ("final.edl", "cmx_3600"), ("final.xml", "fcp_xml")):
            atomic_write_text(out_dir / name, editorial.to_string(otl, adapter))
            files[name] = out_dir / name
        files["final.srt"], files["final.vtt"] = out_dir / "final.srt", out_dir / "final.vtt"
        return CutResult(final, tl, files)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def manifest(loaded: Loaded, backend: str, outcomes: dict[str, Outcome], spent: float) -> dict:
    """Per shot: status, clip, job id, model as reported, prompt hash, seconds billed, and money: what the
    provider took for it in this run (`cost`), what earlier runs paid for its clip or jobs
    (`cost_earlier`), and the twin it shares a job with (`same_as`). On top: `spent` (the money the
    provider took in this run), `spent_earlier` (what earlier runs paid for the clips used here, each
    request once) and `unconfirmed` (held for submissions whose outcome is unknown). No secrets."""
    from storyboard.redact import redact
    shots = []
    for sid, o in outcomes.items():
        m = o.meta
        shots.append({
            "id": sid, "status": o.status, "reason": redact(o.reason) or None,
            "clip": str(o.entry.clip) if o.entry else None, "key": o.job.key, "take": o.job.take,
            "job_id": m.get("job_id"), "model": o.job.shot.model, "model_reported": m.get("model_reported"),
            "prompt_sha256": hashlib.sha256(o.job.shot.prompt.encode()).hexdigest(),
            "duration": o.job.shot.duration, "seconds_asked": o.job.shot.seconds,
            "seconds_billed": m.get("seconds_billed", 0.0), "cost": o.spent, "cost_earlier": o.spent_earlier,
            "cost_when_made": m.get("cost", 0.0), "same_as": o.same_as, "warnings": o.warnings or m.get("warnings", []),
        })
    return {"storyboard": str(loaded.path), "title": loaded.storyboard.title, "backend": backend,
            "spent": round(spent, 4),
            "spent_earlier": round(sum(o.spent_earlier for o in outcomes.values() if o.same_as is None), 4),
            "unconfirmed": round(sum(o.unconfirmed for o in outcomes.values()), 4), "shots": shots}


def write_manifest(out_dir: Path, data: dict) -> Path:
    path = out_dir / "manifest.json"
    atomic_write_json(path, data)
    return path
