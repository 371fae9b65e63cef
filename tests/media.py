"""Helpers for tests on real media: generated clips (ffmpeg's own test sources) and measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from storyboard.media.ffmpeg import run


def make_clip(path: Path, seconds: float, size: str = "320x180", fps: int = 24, tone: float | None = 440.0,
              rate: int = 48000, channels: int = 2, house: bool = True, crf: int = 23) -> Path:
    """A test clip: moving test pattern, optional sine tone. house=True encodes in the house format;
    otherwise at quality `crf` (higher: smaller files)."""
    from storyboard.media.clips import AUDIO, video_codec
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate={rate}"]
    args += ["-t", f"{seconds}", "-map", "0:v"]
    if tone is not None:
        args += ["-map", "1:a"]
    if house:
        args += [*video_codec(fps), *AUDIO]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
        if tone is not None:
            args += ["-c:a", "aac", "-ar", str(rate), "-ac", str(channels)]
    run([*args, str(path)])
    return path


class ClipStore:
    """Test clips made once per (length, size) and kept, for fake providers to serve."""

    def __init__(self, folder: Path, fps: int, rate: int, tone: float):
        import threading
        self.folder, self.fps, self.rate, self.tone = folder, fps, rate, tone
        self.lock = threading.Lock()

    def get(self, seconds: float, size: str) -> Path:
        path = self.folder / f"clip-{self.fps}-{self.rate}-{seconds:g}-{size}.mp4"
        with self.lock:
            if not path.exists():
                tmp = path.with_suffix(".part.mp4")
                # small files (crf 45: an eighth of the default): the fakes' clips cross HTTP, are
                # uploaded for extensions, hashed and decoded in every test
                make_clip(tmp, seconds, size=size, fps=self.fps, tone=self.tone, rate=self.rate, house=False, crf=45)
                tmp.rename(path)
        return path


def audio_samples(path: Path) -> np.ndarray:
    """Decoded sound, mono float, at the file's rate."""
    import av
    with av.open(str(path)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
    a = np.concatenate(chunks, axis=1)
    return a.mean(axis=0) if a.ndim == 2 else a


def video_frames(path: Path) -> list[np.ndarray]:
    import av
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x.astype(np.float64)))) + 1e-12))
