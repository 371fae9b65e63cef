"""Sound stems for the hand-off: each shot's sound as the cut uses it, and the music bed as laid
under the cut (looped, levelled, faded; before ducking and loudness), as 48 kHz 24-bit WAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from storyboard.fsutil import publish, temp_name
from storyboard.media.assemble import MUSIC_GAIN_DB
from storyboard.media.clips import RATE
from storyboard.media.ffmpeg import SAFE_INPUT, run, safe_path

WAV = ["-c:a", "pcm_s24le", "-ar", str(RATE), "-ac", "2", "-map_metadata", "-1", "-fflags", "+bitexact",
       "-flags:a", "+bitexact"]
MUSIC_FADE_OUT = 2.0  # seconds: the bed fades out at the end of the cut (as media/assemble.py mixes it)


def samples(frames: int, fps: int) -> int:
    """Sound samples that last exactly `frames` of picture (rounded to the nearest sample)."""
    return int(Fraction(frames, fps) * RATE + Fraction(1, 2))


def shot_sound_cmd(items: list[tuple[Path, int, Path]], fps: int) -> list[str]:
    """One ffmpeg for every shot: (house-format source, frames the cut shows of it, WAV out).
    Each WAV is the source's first audio track, stereo at 48 kHz, exactly as long as its frames."""
    args: list[str] = []
    for src, _, _ in items:
        args += [*SAFE_INPUT, "-i", safe_path(src)]
    for k, (_, frames, out) in enumerate(items):
        args += ["-map", f"{k}:a:0", "-af", f"aresample={RATE},aformat=channel_layouts=stereo,apad,"
                 f"atrim=end_sample={samples(frames, fps)}", *WAV, safe_path(out)]
    return args


def music_cmd(music: Path, out: Path, frames: int, fps: int, gain_db: float = MUSIC_GAIN_DB) -> list[str]:
    """The bed under a cut of `frames`: looped to its length, at the cut's music level, faded out."""
    total = float(Fraction(frames, fps))
    return ["-stream_loop", "-1", *SAFE_INPUT, "-i", safe_path(music), "-map", "0:a:0",
            "-af", f"aresample={RATE},aformat=channel_layouts=stereo,apad,atrim=end_sample={samples(frames, fps)},"
                   f"volume={gain_db:.1f}dB,afade=t=out:st={max(0.0, total - MUSIC_FADE_OUT):.6f}:d={MUSIC_FADE_OUT:.6f}",
            *WAV, safe_path(out)]


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
