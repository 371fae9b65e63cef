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

from storyboard.draw import cards as draw
from storyboard.errors import MediaError
from storyboard.exports import editorial, handoff, subtitles
from storyboard.media import assemble, clips, stems
from storyboard.media.ffmpeg import ConcatEntry, Script, concat_script, run
from storyboard.media.probe import index, probe
from storyboard.model.jobs import Entry, Outcome
from storyboard.model.loaded import Loaded
from storyboard.redact import redact
from storyboard.stages.timeline import Timeline, build, rows_of, shot_lines, timecode, frames as to_frames
from storyboard.store.files import atomic_write_json, atomic_write_text, publish, temp_name


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
        draw.draw_subtitle(cue.speaker, cue.text, colours.get(cue.speaker, "#ffffff"), tl.width, tl.height,
                           note=cue.mark).save(card)
        entries.append(ConcatEntry(card, duration=int((cue.end - max(cue.start, t)) * 1_000_000)))
        t = cue.end
    entries.append(ConcatEntry(blank, duration=int(max(Fraction(1, 10), tl.duration - t) * 1_000_000)))
    entries.append(ConcatEntry(blank))  # the concat demuxer shows the last image only if it is listed twice
    return concat_script(entries, "subtitles.txt")


def _marked_lines(lines: list[dict], shot) -> list[dict]:
    """Each timed line with the (V.O.) or (O.S.) of its storyboard line, as the burnt-in card says it."""
    todo = list(shot.dialogue)
    out = []
    for line in lines:
        d = (next((d for d in todo if d.speaker == line.get("speaker") and d.text == line.get("text")), None)
             or next((d for d in todo if d.speaker == line.get("speaker")), None))
        if d is not None:
            todo.remove(d)
        out.append({**line, "mark": "V.O." if d is not None and d.voice_over else
                    "O.S." if d is not None and d.off_screen else ""})
    return out


def make(loaded: Loaded, outcomes: dict[str, Outcome], out_dir: Path, loudness: float = -14.0,
         burn_subtitles: bool = False, on_step: Callable[[str], None] = lambda s: None,
         media_root: str | None = None) -> CutResult:
    sb = loaded.storyboard
    fps, width, height = sb.defaults.fps, sb.defaults.width, sb.defaults.height
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=out_dir))
    try:
        sources: list[Path] = []
        keyframes_of: dict[int, list[int]] = {}
        dialogue: dict[str, list[dict]] = {}
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
            dialogue[shot.id] = _marked_lines(shot_lines(sb, i) if lines is None else lines, shot)
        tl = build(rows_of(sb), fps, width, height, dialogue)
        cid_by_name = {sb.character_name(c): c for c in sb.characters}
        colours = {name: draw.character_colour(cid) for name, cid in cid_by_name.items()}
        cards = subtitle_cards(tl, work, colours) if burn_subtitles and tl.cues else None
        music = loaded.asset(sb.music) if sb.music else None
        final = out_dir / "final.mp4"
        tmp = temp_name(final)
        try:
            sound = assemble.make_cut(tl, sources, work, tmp, music=music, loudness=loudness, subtitle_cards=cards,
                                      keyframes_of=keyframes_of, on_step=on_step, music_gain_db=sb.music_volume)
            on_step("checking the cut")
            info = probe(tmp)
            if info.frames and info.frames != tl.total_frames:
                raise MediaError(f"the cut has {info.frames} frames, the timeline {tl.total_frames}")
            publish(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)  # gone already when published
        files = {"final.mp4": final}
        files.update(handoff_exports(loaded, outcomes, tl, sources, music, out_dir, media_root, on_step))
        return CutResult(final, tl, files, sound.loudness, sound.true_peak, sound.warnings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def handoff_exports(loaded: Loaded, outcomes: dict[str, Outcome], tl: Timeline, sources: list[Path],
                    music: Path | None, out_dir: Path, media_root: str | None,
                    on_step: Callable[[str], None]) -> dict[str, Path]:
    """Subtitles, and the editor's hand-off: media/ (each shot's picture linked from the cache or
    copied, its sound and the music bed as WAV) and the timeline, EDL and FCP XML naming them."""
    sb = loaded.storyboard
    fps = tl.fps
    files: dict[str, Path] = {}
    for name, text in (("final.srt", subtitles.srt(tl.cues)), ("final.vtt", subtitles.vtt(tl.cues))):
        atomic_write_text(out_dir / name, text)
        files[name] = out_dir / name
    on_step("gathering media")
    named = [handoff.shot_files(i + 1, shot.id, outcomes[shot.id].job.take if outcomes[shot.id].entry else None)
             for i, shot in enumerate(sb.shots)]
    for src, f in zip(sources, named):
        handoff.place(src, out_dir / f.video)
    stems.write_shot_sounds([(src, sp.length, out_dir / f.sound) for src, sp, f in zip(sources, tl.spans, named)], fps)
    keep = {n.rsplit("/", 1)[-1] for f in named for n in (f.video, f.sound)}
    bed = None
    if music is not None:
        rel = handoff.music_file(sb.music)
        stems.write_music(music, out_dir / rel, tl.total_frames, fps, sb.music_volume)
        keep.add(rel.rsplit("/", 1)[-1])
        bed = editorial.Bed(handoff.url(rel, media_root))
    handoff.prune(out_dir / handoff.MEDIA, keep)
    files[handoff.MEDIA] = out_dir / handoff.MEDIA
    on_step("writing exports")
    reels = handoff.reel_names([s.id for s in sb.shots])
    shots = []
    for shot, f, reel in zip(sb.shots, named, reels):
        o = outcomes[shot.id]
        meta = o.meta
        shots.append(editorial.ShotClip(
            video=handoff.url(f.video, media_root), sound=handoff.url(f.sound, media_root), reel=reel,
            metadata={"prompt": o.job.shot.prompt, "backend": meta.get("backend", o.job.shot.backend),
                      "model": meta.get("model_reported", o.job.shot.model), "job_id": meta.get("job_id"),
                      "cost": meta.get("cost", 0.0), "status": o.status, "take": o.job.take},
            slate="" if o.entry else ": ".join(x for x in (o.status, o.reason) if x),
            warnings=tuple(o.warnings or meta.get("warnings", []))))
    otl = editorial.build_otio(tl, sb.title, shots, bed)
    for name, text in editorial.exports(otl, tl.width, tl.height).items():
        atomic_write_text(out_dir / name, text)
        files[name] = out_dir / name
    return files


def manifest(loaded: Loaded, backend: str, outcomes: dict[str, Outcome], spent: float,
             warnings: dict[str, list[str]] | None = None) -> dict:
    """Per shot: status, clip, job id, model as reported, prompt hash, seconds billed, where it sits in
    the cut (in and out, out exclusive), every warning (the plan's, by shot in `warnings`, and the
    render's), and money: what the provider took for it in this run (`cost`), what earlier runs paid
    for its clip or jobs (`cost_earlier`), and the twin it shares a job with (`same_as`). On top:
    `spent` (the money the provider took in this run), `spent_earlier` (what earlier runs paid for the
    clips used here, each request once) and `unconfirmed` (held for submissions whose outcome is
    unknown). No secrets."""
    sb = loaded.storyboard
    fps = sb.defaults.fps
    spans = {sp.shot_id: sp for sp in build(rows_of(sb), fps, sb.defaults.width, sb.defaults.height).spans}
    shots = []
    for sid, o in outcomes.items():
        m = o.meta
        sp = spans[sid]
        said = list(dict.fromkeys([*(warnings or {}).get(sid, []), *(o.warnings or m.get("warnings", []))]))
        shots.append({
            "id": sid, "status": o.status, "reason": redact(o.reason) or None,
            "clip": str(o.entry.clip) if o.entry else None, "key": o.job.key, "take": o.job.take,
            "job_id": m.get("job_id"), "model": o.job.shot.model, "model_reported": m.get("model_reported"),
            "prompt_sha256": hashlib.sha256(o.job.shot.prompt.encode()).hexdigest(),
            "duration": o.job.shot.duration, "seconds_asked": o.job.shot.seconds,
            "seconds_billed": m.get("seconds_billed", 0.0), "cost": o.spent, "cost_earlier": o.spent_earlier,
            "cost_when_made": m.get("cost", 0.0), "same_as": o.same_as, "warnings": said,
            "in": round(sp.start / fps, 4), "out": round((sp.start + sp.length) / fps, 4),
            "in_timecode": timecode(sp.start, fps), "out_timecode": timecode(sp.start + sp.length, fps),
        })
    return {"storyboard": str(loaded.path), "title": loaded.storyboard.title, "backend": backend,
            "spent": round(spent, 4),
            "spent_earlier": round(sum(o.spent_earlier for o in outcomes.values() if o.same_as is None), 4),
            "unconfirmed": round(sum(o.unconfirmed for o in outcomes.values()), 4), "fps": fps, "shots": shots}


def write_manifest(out_dir: Path, data: dict) -> Path:
    path = out_dir / "manifest.json"
    atomic_write_json(path, data)
    return path
