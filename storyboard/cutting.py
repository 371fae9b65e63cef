"""From rendered (or missing) shots to the final cut and every export, all written atomically."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Callable

from PIL import Image

from storyboard import notes
from storyboard.draw.cards import draw_subtitle
from storyboard.draw.colours import character_colour
from storyboard.draw.slates import draw_slate
from storyboard.errors import MediaError
from storyboard.exports import editorial, handoff, subtitles
from storyboard.exports.record import (STATE, digest as _digest, file_sign as _file_sign, read_state as _read_state,
                                       record as _record, unchanged as _unchanged, write_if_changed as _write_if_changed)
from storyboard.media import assemble, clips, memory, stems
from storyboard.media.ffmpeg import ConcatEntry, Script, concat_script, exe, run
from storyboard.media.probe import index, probe
from storyboard.model.jobs import Entry, Outcome, Rendered
from storyboard.model.loaded import Loaded
from storyboard.redact import redact
from storyboard.stages.timeline import Timeline, build, rows_of, shot_lines, timecode, frames as to_frames
from storyboard.store.files import atomic_write_json, publish, temp_name

CUT_FORMAT = 2  # bump to make every cut again (a change to the cut's code does so by itself: see _code)


@dataclass(frozen=True)
class CutResult:
    """The cut in its output folder: the final video, its timeline, every file written (by name), the
    loudness measured, and (from storyboard.render and cut) what became of each shot. A notebook shows
    it as the video and the list of files."""

    final: Path
    timeline: Timeline
    files: dict[str, Path]
    loudness: float = 0.0  # LUFS, measured on the levelled sound the AAC was made from
    true_peak: float = 0.0  # dBTP, likewise
    warnings: list[str] = field(default_factory=list)  # e.g. a target the sound cannot reach under its ceiling
    rendered: Rendered | None = None  # what became of each shot (storyboard.render and cut fill it in)

    def __repr__(self) -> str:
        shots = f", {self.rendered!r}" if self.rendered is not None else ""
        return (f"<CutResult {self.final} ({float(self.timeline.duration):.1f}s, {len(self.files)} files, "
                f"{self.loudness:.1f} LUFS){shots}>")

    def _repr_html_(self) -> str:
        """For notebooks: the final video (a path relative to the working folder when it is under it,
        which is how Jupyter serves files) and the files written."""
        from html import escape

        def src(p: Path) -> str:
            try:
                return Path(p).resolve().relative_to(Path.cwd().resolve()).as_posix()
            except ValueError:
                return Path(p).resolve().as_uri()
        files = "".join(f"<li><a href='{escape(src(p))}'>{escape(name)}</a></li>" for name, p in self.files.items())
        shots = f"<p>{escape(repr(self.rendered)[1:-1])}</p>" if self.rendered is not None else ""
        warn = "".join(f"<p>warning: {escape(w)}</p>" for w in self.warnings)
        return (f"<div><video src='{escape(src(self.final))}' controls style='max-width:100%'></video>"
                f"<p><b>{escape(str(self.final))}</b>: {float(self.timeline.duration):.1f}s, "
                f"{self.loudness:.1f} LUFS, true peak {self.true_peak:+.1f} dBTP</p>{shots}{warn}"
                f"<ul>{files}</ul></div>")


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
            src = (info.width, info.height) if info.has_video else None
            run(assemble.conform_cmd(entry.clip, tmp, width, height, fps, frames, info.audio_streams > 0, src),
                what=f"conforming shot '{entry.meta.get('shot', entry.key[:8])}'")
            publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)  # a stopped ffmpeg leaves a broken file behind
    return target, list(index(target, fps).keyframes)


def slate_source(work: Path, number: int, shot_id: str, reason: str, frames: int, width: int, height: int,
                 fps: int) -> Path:
    png = work / f"slate{number:05d}.png"
    draw_slate(number, shot_id, reason, width, height).save(png)
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
        draw_subtitle(cue.speaker, cue.text, colours.get(cue.speaker, "#ffffff"), tl.width, tl.height,
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


@lru_cache(maxsize=1)
def _code() -> str:
    """A digest of the code that turns the same inputs into final.mp4 and media/ (these modules'
    source, and the ffmpeg binary by name and size): a change to any of them makes them again,
    with no version to remember to bump."""
    h = hashlib.sha256(str(CUT_FORMAT).encode())
    for name in ("storyboard.cutting", "storyboard.media.assemble", "storyboard.media.clips", "storyboard.media.ffmpeg",
                 "storyboard.media.stems", "storyboard.draw.cards", "storyboard.draw.slates", "storyboard.draw.colours",
                 "storyboard.draw.fonts", "storyboard.stages.timeline"):
        h.update(Path(importlib.import_module(name).__file__).read_bytes())
    binary = Path(exe())
    h.update(f"{binary}:{(_file_sign(binary) or [0])[0]}".encode())
    return h.hexdigest()


def make(loaded: Loaded, outcomes: dict[str, Outcome], out_dir: Path, loudness: float = -14.0,
         burn_subtitles: bool = False, on_step: Callable[[str], None] = lambda s: None,
         media_root: str | None = None) -> CutResult:
    """final.mp4 and every export in `out_dir`. Each output is skipped when a digest of everything
    that shapes it (the clips' digests, the timeline, the music, the levels asked, the code that
    makes it) is the one recorded when it was last written, and its files are still as written: a
    re-run with nothing changed rewrites nothing."""
    memory.lean()  # the threads share two arenas (media/memory.py)
    sb = loaded.storyboard
    fps, width, height = sb.defaults.fps, sb.defaults.width, sb.defaults.height
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=out_dir))
    try:
        dialogue: dict[str, list[dict]] = {}
        shaped_by: list = []  # what each shot's picture and sound are made from
        for i, shot in enumerate(sb.shots):
            o = outcomes[shot.id]
            n = to_frames(shot.duration, fps)
            if o.entry is not None:
                lines = o.entry.meta.get("dialogue") or None
                shaped_by.append(["clip", o.entry.key, o.entry.meta.get("clip_sha256") or _file_sign(o.entry.clip), n])
            else:
                lines = None
                shaped_by.append(["slate", shot.id, o.reason or o.status, n])
            dialogue[shot.id] = _marked_lines(shot_lines(sb, i) if lines is None else lines, shot)
        tl = build(rows_of(sb), fps, width, height, dialogue)
        cid_by_name = {sb.character_name(c): c for c in sb.characters}
        colours = {name: character_colour(cid) for name, cid in cid_by_name.items()}
        music = loaded.asset(sb.music) if sb.music else None
        cut_key = _digest({"code": _code(), "timeline": repr(tl), "shots": shaped_by,
                           "music": [str(music), _file_sign(music)] if music else None, "music_volume": sb.music_volume,
                           "loudness": loudness, "subtitles": burn_subtitles and colours})
        # the hand-off's media: each shot's picture and sound at its length, and the bed (not the levels)
        media_key = _digest({"code": _code(), "shots": shaped_by, "lengths": [sp.length for sp in tl.spans],
                             "fps": fps, "music": [str(music), _file_sign(music)] if music else None,
                             "music_volume": sb.music_volume, "total": tl.total_frames})
        state = _read_state(out_dir)
        final = out_dir / "final.mp4"
        got_sources: list[Path] = []
        keyframes_of: dict[int, list[int]] = {}

        def sources() -> list[Path]:
            """Every shot's clip in the house format (conformed once, kept in the cache), or its slate."""
            if not got_sources:
                on_step("conforming clips")
                for i, shot in enumerate(sb.shots):
                    o = outcomes[shot.id]
                    n = to_frames(shot.duration, fps)
                    if o.entry is not None:
                        src, keyframes_of[i] = house_source(o.entry, n, width, height, fps)
                    else:
                        src = slate_source(work, i + 1, shot.id, o.reason or o.status, n, width, height, fps)
                        keyframes_of[i] = assemble.keyframes(src, fps)
                    got_sources.append(src)
            return got_sources
        if _unchanged(state, "final.mp4", cut_key, [final]):
            on_step("the cut is unchanged")
            rec = state["final.mp4"]
            sound_figures = (rec.get("loudness", 0.0), rec.get("true_peak", 0.0), list(rec.get("warnings", [])))
        else:
            srcs = sources()
            cards = subtitle_cards(tl, work, colours) if burn_subtitles and tl.cues else None
            tmp = temp_name(final)
            try:
                sound = assemble.make_cut(tl, srcs, work, tmp, music=music, loudness=loudness, subtitle_cards=cards,
                                          keyframes_of=keyframes_of, on_step=on_step, music_gain_db=sb.music_volume)
                on_step("checking the cut")
                info = probe(tmp)
                if info.frames and info.frames != tl.total_frames:
                    raise MediaError(f"the cut has {info.frames} frames, the timeline {tl.total_frames}")
                publish(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)  # gone already when published
            sound_figures = (sound.loudness, sound.true_peak, sound.warnings)
            _record(state, "final.mp4", cut_key, [final], loudness=sound.loudness, true_peak=sound.true_peak,
                    warnings=sound.warnings)
            atomic_write_json(out_dir / STATE, state)
        files = {"final.mp4": final}
        files.update(handoff_exports(loaded, outcomes, tl, sources, music, out_dir, media_root, on_step,
                                     state, media_key))
        return CutResult(final, tl, files, *sound_figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        # the exports' trees and texts are freed, but glibc keeps their pages (42 of a 57 MB arena free
        # after a 1,500-shot cut): what runs next (boards, review pages, a server's next cut) starts lean
        memory.give_back(always=True)


def handoff_exports(loaded: Loaded, outcomes: dict[str, Outcome], tl: Timeline, sources: Callable[[], list[Path]],
                    music: Path | None, out_dir: Path, media_root: str | None,
                    on_step: Callable[[str], None], state: dict | None = None, shaped: str = "") -> dict[str, Path]:
    """Subtitles, and the editor's hand-off: media/ (each shot's picture linked from the cache or
    copied, its sound and the music bed as WAV) and the timeline, EDL and FCP XML naming them.
    media/ is skipped when `shaped` (a digest of what shapes it) with the names is as recorded and
    its files are as written, and so are the editor's files when a digest of what they are made from
    is; subtitles are rewritten only when their text changed."""
    sb = loaded.storyboard
    fps = tl.fps
    state = {} if state is None else state
    files: dict[str, Path] = {}
    for name, text in (("final.srt", subtitles.srt(tl.cues)), ("final.vtt", subtitles.vtt(tl.cues))):
        _write_if_changed(out_dir / name, text)
        files[name] = out_dir / name
    named = [handoff.shot_files(i + 1, shot.id, outcomes[shot.id].job.take if outcomes[shot.id].entry else None)
             for i, shot in enumerate(sb.shots)]
    keep = {n.rsplit("/", 1)[-1] for f in named for n in (f.video, f.sound)}
    rel = handoff.music_file(sb.music) if music is not None else None
    media = [out_dir / n for f in named for n in (f.video, f.sound)] + ([out_dir / rel] if rel else [])
    media_key = _digest({"shaped": shaped, "named": [[f.video, f.sound] for f in named], "bed": rel})
    if not (shaped and _unchanged(state, handoff.MEDIA, media_key, media)):
        on_step("gathering media")
        srcs = sources()
        for src, f in zip(srcs, named):
            handoff.place(src, out_dir / f.video)
        stems.write_shot_sounds([(src, sp.length, out_dir / f.sound) for src, sp, f in zip(srcs, tl.spans, named)], fps)
        if music is not None:
            stems.write_music(music, out_dir / rel, tl.total_frames, fps, sb.music_volume)
        handoff.prune(out_dir / handoff.MEDIA, keep | ({rel.rsplit("/", 1)[-1]} if rel else set()))
        if shaped:
            _record(state, handoff.MEDIA, media_key, media)
            atomic_write_json(out_dir / STATE, state)
    bed = editorial.Bed(handoff.url(rel, media_root)) if rel else None
    files[handoff.MEDIA] = out_dir / handoff.MEDIA
    on_step("writing exports")
    reels = handoff.reel_names([s.id for s in sb.shots])
    reviews = notes.load(loaded.path)  # the review room's notes and statuses: markers for the editor
    shots = []
    for shot, f, reel in zip(sb.shots, named, reels):
        o = outcomes[shot.id]
        meta = o.meta
        shots.append(editorial.ShotClip(
            video=handoff.url(f.video, media_root), sound=handoff.url(f.sound, media_root), reel=reel,
            metadata={"prompt": o.job.shot.prompt, "backend": meta.get("backend", o.job.shot.backend),
                      "model": meta.get("model_reported", o.job.shot.model), "job_id": meta.get("job_id"),
                      "cost": meta.get("cost", 0.0), "take": o.job.take,
                      # the clip's state, not this run's: "cached" on a re-run would rewrite every export
                      "status": "rendered" if o.entry is not None else o.status},
            slate="" if o.entry else ": ".join(x for x in (o.status, o.reason) if x),
            warnings=tuple(o.warnings or meta.get("warnings", [])),
            notes=tuple(notes.note_lines(reviews.of(shot.id)))))
    edits = [out_dir / name for name in editorial.NAMES]
    edits_key = editorial.shaped_by(tl, sb.title, shots, bed)
    if not (shaped and _unchanged(state, "editorial", edits_key, edits)):
        otl = editorial.build_otio(tl, sb.title, shots, bed)
        for name, text in editorial.each_export(otl, tl.width, tl.height):
            _write_if_changed(out_dir / name, text)
            del text  # not held while the next one is made
        del otl
        if shaped:
            _record(state, "editorial", edits_key, edits)
            atomic_write_json(out_dir / STATE, state)
    files.update({p.name: p for p in edits})
    return files


def manifest(loaded: Loaded, backend: str, outcomes: dict[str, Outcome], spent: float,
             warnings: dict[str, list[str]] | None = None) -> dict:
    """Per shot: status, clip, job id, model as reported, prompt hash, seconds billed, where it sits in
    the cut (in and out, out exclusive), every warning (the plan's, by shot in `warnings`, and the
    render's), and money: what the provider took for it in this run (`cost`), what earlier runs paid
    for its clip or jobs (`cost_earlier`), the twin it shares a job with (`same_as`), and the multi-shot
    group whose clip it was cut from (`group`: the group's shots, its frames there). On top:
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
            # made with others by one multi-shot request: its frames in that clip, and how many more (or
            # fewer) it got than asked when the clip's length differed from the sum (spread in proportion)
            "group": {k: v for k, v in m["group"].items() if k != "key"} if m.get("group") else None,
        })
    return {"storyboard": str(loaded.path), "title": loaded.storyboard.title, "backend": backend,
            "spent": round(spent, 4),
            "spent_earlier": round(sum(o.spent_earlier for o in outcomes.values() if o.same_as is None), 4),
            "unconfirmed": round(sum(o.unconfirmed for o in outcomes.values()), 4), "fps": fps, "shots": shots}


def sound_record(result: CutResult, target: float, ceiling: float = -1.0) -> dict:
    """The manifest's record of the cut's sound: loudness and true peak as measured on the levelled
    sound final.mp4's AAC was made from, the targets, and whether it met them (else `warnings` says
    by how much)."""
    def figure(x: float) -> float | None:
        return None if x in (float("-inf"), float("inf")) else round(x, 2)  # JSON holds no infinity
    return {"loudness_lufs": figure(result.loudness), "true_peak_dbtp": figure(result.true_peak), "target_lufs": target,
            "true_peak_ceiling_dbtp": ceiling, "tolerance_lu": assemble.LOUDNESS_TOLERANCE,
            "on_target": not result.warnings, "warnings": list(result.warnings)}


def write_manifest(out_dir: Path, data: dict) -> Path:
    """manifest.json, written (atomically) only when what it says changed."""
    path = out_dir / "manifest.json"
    _write_if_changed(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def last_sound(out_dir: Path) -> dict | None:
    """The manifest's record of the sound of final.mp4 as it stands (None without one)."""
    try:
        sound = json.loads((out_dir / "manifest.json").read_text("utf-8")).get("sound")
    except (OSError, ValueError, AttributeError):
        return None
    return sound if isinstance(sound, dict) else None
