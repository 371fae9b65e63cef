"""ffmpeg commands for single clips: the house video format and fitted stills (the animatic's own
encode is built in media/camera.py)."""

from __future__ import annotations

from pathlib import Path

from storyboard.media.ffmpeg import SAFE_INPUT, run, safe_path

RATE = 48_000
X264_PRESET = "ultrafast"  # measured here: drawn panels encode fastest this way; see bench/animatic.py
AUDIO = ["-c:a", "aac", "-b:a", "160k", "-ar", str(RATE), "-ac", "2"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]


def video_codec(fps: int) -> list[str]:
    """The house video format: H.264 yuv420p, no B-frames, a key frame every second (cheap smart cuts)."""
    return ["-c:v", "libx264", "-preset", X264_PRESET, "-crf", "23", "-pix_fmt", "yuv420p", "-profile:v", "high",
            "-bf", "0", "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0", "-r", str(fps)]


def house_signature(width: int, height: int, fps: int) -> str:
    """Clips with this signature join by stream copy: same size, rate and encoder settings."""
    return f"h264-high-bf0-g{fps}-{X264_PRESET}-crf23/{width}x{height}@{fps}/aac{RATE}s2"


def fit_filter(width: int, height: int) -> str:
    return (f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")


def fit_image_cmd(src: Path, out_png: Path, width: int, height: int) -> list[str]:
    return [*SAFE_INPUT, "-i", safe_path(src), "-vf", fit_filter(width, height), "-frames:v", "1", safe_path(out_png)]


def fit_image(src: Path, out_png: Path, width: int, height: int) -> Path:
    run(fit_image_cmd(src, out_png, width, height), what=f"fitting {src.name}")
    return out_png
