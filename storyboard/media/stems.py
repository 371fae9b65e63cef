"""Sound stems for the hand-off: each shot's sound as the cut uses it, and the music bed as laid
under the cut (looped, levelled, faded; before ducking and loudness), as 48 kHz 24-bit WAV."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import ffmpeg as ff  # ffmpeg-python

from storyboard.media.assemble import MAX_INPUTS, MUSIC_GAIN_DB
from storyboard.media.clips import RATE, source
from storyboard.media.ffmpeg import Command, compile, run, safe_path, timeout_for
from storyboard.store.files import publish, temp_name

WAV = {"c:a": "pcm_s24le", "ar": RATE, "ac": 2, "map_metadata": -1, "fflags": "+bitexact", "flags:a": "+bitexact"}
MUSIC_FADE_OUT = 2.0  # seconds: the bed fades out at the end of the cut (as media/assemble.py mixes it)


def samples(frames: int, fps: int) -> int:
    """Sound samples that last exactly `frames` of picture (rounded to the nearest sample)."""
    return int(Fraction(frames, fps) * RATE + Fraction(1, 2))


Item = tuple[Path, int, Path]  # (house-format source, frames the cut shows of it, WAV out)


def plan_stem_chunks(items: list[Item], max_inputs: int | None = None) -> list[list[Item]]:
    """The shots in runs of at most MAX_INPUTS, one ffmpeg each: its memory, threads and open files
    stay bounded however long the film (one ffmpeg for all of them held 1.6 MB a shot)."""
    n = max_inputs or MAX_INPUTS
    return [items[k:k + n] for k in range(0, len(items), n)]


def shot_sound_cmd(items: list[Item], fps: int) -> Command:
    """One ffmpeg for these shots: (house-format source, frames the cut shows of it, WAV out).
    Each WAV is the source's first audio track, stereo at 48 kHz, exactly as long as its frames.
    A source serving several shots is read once and split (ffmpeg-python refuses one stream feeding
    two outputs)."""
    uses = Counter(src for src, _, _ in items)
    feeds = {}
    for src, n in uses.items():
        a = source(src)["a:0"]
        feeds[src] = iter([a.filter_multi_output("asplit", n)[k] for k in range(n)] if n > 1 else [a])
    outs = [ff.output(next(feeds[src]).filter("aresample", RATE).filter("aformat", channel_layouts="stereo")
                      .filter("apad").filter("atrim", end_sample=samples(frames, fps)), safe_path(out), **WAV)
            for src, frames, out in items]
    seconds = sum(frames for _, frames, _ in items) / fps
    return compile(ff.merge_outputs(*outs), "the shots' sound for the hand-off", timeout_for(seconds, "audio"))


def music_cmd(music: Path, out: Path, frames: int, fps: int, gain_db: float = MUSIC_GAIN_DB) -> Command:
    """The bed under a cut of `frames`: looped to its length, at the cut's music level, faded out."""
    total = float(Fraction(frames, fps))
    bed = (source(music, stream_loop=-1)["a:0"].filter("aresample", RATE).filter("aformat", channel_layouts="stereo")
           .filter("apad").filter("atrim", end_sample=samples(frames, fps)).filter("volume", f"{gain_db:.1f}dB")
           .filter("afade", t="out", st=f"{max(0.0, total - MUSIC_FADE_OUT):.6f}", d=f"{MUSIC_FADE_OUT:.6f}"))
    return compile(ff.output(bed, safe_path(out), **WAV), "the music bed for the hand-off", timeout_for(total, "audio"))


def write_shot_sounds(items: list[Item], fps: int) -> None:
    """Make every shot's WAV under a temporary name, a bounded chunk of shots per ffmpeg, and publish
    each chunk's as it is done."""
    for chunk in plan_stem_chunks(items):
        staged = [(src, n, temp_name(out)) for src, n, out in chunk]
        try:
            run(shot_sound_cmd(staged, fps), what="writing the shots' sound for the hand-off")
            for (_, _, tmp), (_, _, out) in zip(staged, chunk):
                publish(tmp, out)
        finally:
            for _, _, tmp in staged:
                tmp.unlink(missing_ok=True)


def write_music(music: Path, out: Path, frames: int, fps: int, gain_db: float = MUSIC_GAIN_DB) -> None:
    tmp = temp_name(out)
    try:
        run(music_cmd(music, tmp, frames, fps, gain_db), what="writing the music bed for the hand-off")
        publish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
