"""Stills from a clip for pages and boards: key frames reached by seeking (PyAV), never a whole decode."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from storyboard.errors import MediaError


def key_stills(clip: Path, at: tuple[float, ...], width: int) -> list[Image.Image]:
    """One picture per fraction in `at` (0 the first frame, 0.5 the middle, 1 the end): the key frame
    at or before that point, found by seeking and decoded alone, scaled to `width`.

    A clip in the house format has a key frame every second, so a still is at most a second early."""
    import av
    out: list[Image.Image] = []
    try:
        with av.open(str(clip), options={"protocol_whitelist": "file"}) as c:
            v = c.streams.video[0]  # one frame per seek: decoder threads would only add latency
            length = _length(c, v)
            for frac in at:
                target = max(0.0, min(1.0, frac)) * length
                c.seek(int(target / v.time_base) + (v.start_time or 0), stream=v, backward=True, any_frame=False)
                frame = next(c.decode(v), None)
                if frame is None:
                    raise MediaError(f"{clip.name}: no picture near {target:.2f}s")
                scale = min(1.0, width / frame.width)
                out.append(frame.reformat(width=round(frame.width * scale) // 2 * 2,
                                          height=round(frame.height * scale) // 2 * 2, format="rgb24").to_image())
    except (av.error.FFmpegError, OSError, IndexError, StopIteration) as e:
        raise MediaError(f"{clip.name}: cannot take stills ({e})") from None
    return out


def _length(c, v) -> float:
    if v.duration:
        return float(v.duration * v.time_base)
    return float(c.duration / 1_000_000) if c.duration else 0.0

