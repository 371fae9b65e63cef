"""From rendered (or missing) shots to the final cut and every export, all written atomically."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from PIL import Image

from storyboard.backends import panel as draw
from storyboard.cache import Entry
from storyboard.errors import MediaError
from storyboard.exports import editorial, subtitles
from storyboard.fsutil import atomic_write_json, atomic_write_text, publish, temp_name
from storyboard.loader import Loaded
from storyboard.media import assemble, clips
from storyboard.media.ffmpeg import ConcatEntry, Script, concat_script, run
from storyboard.media.probe import index, probe
from storyboard.renderer import Outcome
from storyboard.timeline import Timeline, build, estimated_lines
from storyboard.timeline import frames as to_frames


@dataclass(frozen=True)
class CutResult:
    final: Path
    timeline: Timeline
    files: dict[str, Path]
    loudness: float = 0.0  # LUFS, measured on the final AAC
    true_peak: float = 0.0  # dBTP
    warnings: list[str] = field(default_factory=list)  # e.g. loudness still off after the corrective passes


def house_source(entry: Entry, frames: int, width: int, height: int, fps: int) -> tuple[Path, list[int]]:
    """The entry's clip in the house format at exactly `frames`, and its key frames: the clip itself
    when it already is, else a conformed copy kept beside it in the cache (made once, published
    atomically). One read of the packets answers both questions; nothing is decoded."""
    target = entry.folder / f"house-{width}x{height}@{fps}-{frames}.mp4"
    if not target.exists():
        if entry.meta.get("house") == clips.house_signature(width, height, fps):
            idx = index(entry.clip, fps)
            if idx.frames == frames:
                return entry.clip, list(idx.keyframes)
        info = probe(entry.clip)
        tmp = temp_name(target)
        try:
            run(assemble.conform_cmd(entry.clip, tmp, width, height, fps, frames, info.audio_streams > 0),
                what=f"conforming shot '{entry.meta.get('shot', entry.key[:8])}'")
            publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)  # a stopped ffmpeg leaves a broken file behind
    return target, list(index(target, fps).keyframes)


def slate_source(work: Path, number: int, shot_id: str, reason: str, frames: int, width: int, height: int,
                 fps: int) -> Path:
    png = work / f"slate{number:05d}.png"
    draw.draw_slate(number, shot_id, reason, width, height).save(png)
    out = work / f"slate{number:05d}.mp4"
    run(assemble.slate_cmd(png, out, fps, frames), what=f"slate for shot '{shot_id}'")
    png.unlink()
    return out


def subtitle_cards(tl: Timeline, work: Path, colours: dict[str, str]) -> Script:
    """The cues as one stream of transparent cards (a concat list of PNGs with durations)."""
    blank = work / "sub_blank.png"
    Image.new("RGBA", (tl.width, tl.height), (0, 0, 0, 0)).save(blank)
    entries, t = [], Fraction(0)
    for k, cue in enumerate(tl.cues):
        if cue.start > t:
            entries.append(ConcatEntry(blank, duration=int((cue.start - t) * 1_000_000)))
        card = work / f"sub{k:05d}.png"
        draw.draw_subtitle(cue.speaker, cue.text, colours.get(cue.speaker, "#ffffff"), tl.width, tl.height).save(card)
        entries.append(ConcatEntry(card, duration=int((cue.end - max(cue.start, t)) * 1_000_000)))
        t = cue.end
    entries.append(ConcatEntry(blank, duration=int(max(Fraction(1, 10), tl.duration - t) * 1_000_000)))
    entries.append(ConcatEntry(blank))  # the concat demuxer shows the last image only if it is listed twice
    return concat_script(entries, "subtitles.txt")


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
                src, keyframes_of[i] = house_source(o.entry, n, width, height, fps)
                lines = o.entry.meta.get("dialogue") or None
            else:
                src = slate_source(work, i + 1, shot.id, o.reason or o.status, n, width, height, fps)
                keyframes_of[i] = assemble.keyframes(src, fps)
                lines = None
            sources.append(src)
            if lines is None:
                lines = estimated_lines([{"speaker": d.speaker, "name": sb.character_name(d.speaker), "text": d.text}
                                         for d in shot.dialogue], shot.duration)
            dialogue[shot.id] = lines
            t = sb.transition_after(i)
            shot_rows.append((shot.id, shot.duration, t.kind, t.seconds))
        tl = build(shot_rows, fps, width, height, dialogue)
        from storyboard.compiler import character_colour
        cid_by_name = {sb.character_name(c): c for c in sb.characters}
        colours = {name: character_colour(cid) for name, cid in cid_by_name.items()}
        cards = subtitle_cards(tl, work, colours) if burn_subtitles and tl.cues else None
        music = loaded.asset(sb.music) if sb.music else None
        final = out_dir / "final.mp4"
        tmp = temp_name(final)
        try:
            sound = assemble.make_cut(tl, sources, work, tmp, music=music, loudness=loudness, subtitle_cards=cards,
                                      keyframes_of=keyframes_of, on_step=on_step)
            on_step("checking the cut")
            info = probe(tmp)
            if info.frames and info.frames != tl.total_frames:
                raise MediaError(f"the cut has {info.frames} frames, the timeline {tl.total_frames}")
            publish(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)  # gone already when published
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
        return CutResult(final, tl, files, sound.loudness, sound.true_peak, sound.warnings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def manifest(loaded: Loaded, backend: str, outcomes: dict[str, Outcome], spent: float) -> dict:
    """Per shot: status, clip, job id, model as reported, prompt hash, seconds billed, cost. No secrets."""
    shots = []
    for sid, o in outcomes.items():
        m = o.meta
        shots.append({
            "id": sid, "status": o.status, "reason": o.reason or None,
            "clip": str(o.entry.clip) if o.entry else None, "key": o.job.key, "take": o.job.take,
            "job_id": m.get("job_id"), "model": o.job.shot.model, "model_reported": m.get("model_reported"),
            "prompt_sha256": hashlib.sha256(o.job.shot.prompt.encode()).hexdigest(),
            "duration": o.job.shot.duration, "seconds_asked": o.job.shot.seconds,
            "seconds_billed": m.get("seconds_billed", 0.0), "cost": m.get("cost", 0.0) if o.status != "cached" else 0.0,
            "cost_when_made": m.get("cost", 0.0), "warnings": o.warnings or m.get("warnings", []),
        })
    return {"storyboard": str(loaded.path), "title": loaded.storyboard.title, "backend": backend,
            "spent": round(spent, 4), "shots": shots}


def write_manifest(out_dir: Path, data: dict) -> Path:
    path = out_dir / "manifest.json"
    atomic_write_json(path, data)
    return path
