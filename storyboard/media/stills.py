"""Stills from a clip for pages and boards: key frames reached by seeking (PyAV), never a whole decode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from storyboard.errors import MediaError


@dataclass(frozen=True)
class Stills:
    seconds: float  # how long the clip's picture runs
    pictures: list[dict[int, Image.Image]]  # per point asked for: {width: picture}


def key_stills(clip: Path, at: tuple[float, ...], widths: tuple[int, ...]) -> Stills:
    """For each fraction in `at` (0 the first frame, 0.5 the middle, 1 the end), the key frame at or
    before that point, found by seeking and decoded alone (non-key frames are skipped), scaled to each
    of `widths`. A clip in the house format has a key frame every second: a still is at most a second early."""
    import av
    pictures: list[dict[int, Image.Image]] = []
    try:
        with av.open(str(clip), options={"protocol_whitelist": "file"}) as c:
            v = c.streams.video[0]  # one frame per seek: decoder threads would only add latency
            v.codec_context.skip_frame = "NONKEY"
            length = float(v.duration * v.time_base) if v.duration else (c.duration or 0) / 1_000_000
            for frac in at:
                target = max(0.0, min(1.0, frac)) * length
                c.seek(int(target / v.time_base) + (v.start_time or 0), stream=v, backward=True, any_frame=False)
                frame = next(c.decode(v), None)
                if frame is None:
                    raise MediaError(f"{clip.name}: no picture near {target:.2f}s")
                pictures.append({w: _scaled(frame, w) for w in widths})
    except (av.error.FFmpegError, OSError, IndexError, StopIteration) as e:
        raise MediaError(f"{clip.name}: cannot take stills ({e})") from None
    return Stills(length, pictures)


def _scaled(frame, width: int) -> Image.Image:
    scale = min(1.0, width / frame.width)
    return frame.reformat(width=max(2, round(frame.width * scale) // 2 * 2),
                          height=max(2, round(frame.height * scale) // 2 * 2), format="rgb24").to_image()
