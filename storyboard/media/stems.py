"""Sound stems for the hand-off: each shot's sound as the cut uses it, and the music bed as laid
under the cut (looped, levelled, faded; before ducking and loudness), as 48 kHz 24-bit WAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from storyboard.media.assemble import MUSIC_GAIN_DB
from storyboard.store.files import publish, temp_name
import ffmpeg as ff  # ffmpeg-python

from storyboard.media.clips import RATE, source
from storyboard.media.ffmpeg import Command, compile, run, safe_path, timeout_for

WAV = {"c:a": "pcm_s24le", "ar": RATE, "ac": 2, "map_metadata": -1, "fflags": "+bitexact", "flags:a": "+bitexact"}
MUSIC_FADE_OUT = 2.0  # seconds: the bed fades out at the end of the cut (as media/assemble.py mixes it)


def samples(frames: int, fps: int) -> int:
    """Sound samples that last exactly `frames` of picture (rounded to the nearest sample)."""
    return int(Fraction(frames, fps) * RATE + Fraction(1, 2))


def shot_sound_cmd(items: list[tuple[Path, int, Path]], fps: int) -> Command:
    """One ffmpeg for every shot: (house-format source, frames the cut shows of it, WAV out).
    Each WAV is the source's first audio track, stereo at 48 kHz, exactly as long as its frames."""
    outs = [ff.output(source(src)["a:0"].filter("aresample", RATE).filter("aformat", channel_layouts="stereo")
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


def write_shot_sounds(items: list[tuple[Path, int, Path]], fps: int) -> None:
    """Make every shot's WAV under a temporary name, then publish them all."""
    if not items:
        return
    staged = [(src, n, temp_name(out)) for src, n, out in items]
    try:
        run(shot_sound_cmd(staged, fps), what="writing the shots' sound for the hand-off")
        for (_, _, tmp), (_, _, out) in zip(staged, items):
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
