"""ffmpeg commands for single clips: the house video format and fitted stills (the animatic's
encode is built in media/camera.py)."""

from __future__ import annotations

from pathlib import Path

import ffmpeg as ff  # ffmpeg-python

from storyboard.errors import MediaError
from storyboard.model.caps import ASPECT_TOLERANCE
from storyboard.media import RATE
from storyboard.media.ffmpeg import SAFE, Command, compile, safe_path, timeout_for

X264_PRESET = "ultrafast"  # measured here: drawn panels encode fastest this way; see bench/animatic.py
X264_QP = 23  # a constant quantiser, not crf 23: crf gave flat drawings QP 13 (large, slow to encode: a fifth of
# x264's time) and holds the same picture init QP (23), so the stream parameters match
# output options (ffmpeg-python keyword arguments)
AUDIO = {"c:a": "aac", "b:a": "160k", "ar": RATE, "ac": 2}
BITEXACT = {"map_metadata": -1, "fflags": "+bitexact", "flags:v": "+bitexact", "flags:a": "+bitexact"}


def video_codec(fps: int) -> dict:
    """The house video format: H.264 yuv420p, no B-frames, a key frame every second (cheap smart cuts)."""
    return {"c:v": "libx264", "preset": X264_PRESET, "qp": X264_QP, "pix_fmt": "yuv420p", "profile:v": "high",
            "bf": 0, "g": fps, "keyint_min": fps, "sc_threshold": 0, "r": fps}


def house_signature(width: int, height: int, fps: int) -> str:
    """Clips with this signature join by stream copy: same size, rate and encoder settings."""
    return f"h264-high-bf0-g{fps}-{X264_PRESET}-qp{X264_QP}/{width}x{height}@{fps}/aac{RATE}s2"


def source(path: Path, **options):
    """One of our input files, read as a file and nothing else."""
    return ff.input(safe_path(path), **SAFE, **options)


def fit_filter(stream, width: int, height: int):
    """Scale to fit inside width x height, keeping the aspect; pad the rest with black."""
    return (stream.filter("scale", w=width, h=height, force_original_aspect_ratio="decrease", flags="lanczos")
            .filter("pad", w=width, h=height, x="(ow-iw)/2", y="(oh-ih)/2", color="black")
            .filter("setsar", sar=1))


def conform_filter(stream, src: tuple[int, int] | None, width: int, height: int):
    """A clip's picture to the film's frame: scaled; cropped (centred) where its shape differs from the
    film's by a few per cent, as a model's nearest size does; padded only when it differs more."""
    if src:
        off = (src[0] / src[1]) / (width / height) - 1
        if 1e-3 < abs(off) <= ASPECT_TOLERANCE:
            return (stream.filter("scale", w=width, h=height, force_original_aspect_ratio="increase", flags="lanczos")
                    .filter("crop", w=width, h=height).filter("setsar", sar=1))
    return fit_filter(stream, width, height)


def fit_picture(im, out_png: Path, size: tuple[int, int] | None) -> Path:
    """A picture (PIL) letterboxed to `size` (scaled to fit with Lanczos, centred on black, as fit_filter
    does a clip), saved as PNG at deflate's fastest level: a fifth larger than the default, in half the
    time (a first frame is uploaded once; a last frame is kept for every clip). In-process: a 1280x720
    fit costs what PNG's coding does, with no ffmpeg to start."""
    from PIL import Image, ImageOps
    if im.mode != "RGB":  # a decoded frame is RGB already: not copied for nothing
        im = im.convert("RGB")
    if size and im.size != tuple(size):
        im = ImageOps.pad(im, tuple(size), Image.LANCZOS, color=(0, 0, 0))
    im.save(out_png, format="PNG", compress_level=1)
    return out_png


def fit_image(src: Path, out_png: Path, width: int, height: int) -> Path:
    """A picture file (a reference, a last frame: png, jpeg or webp, turned as its EXIF says) fitted to
    the frame; MediaError naming it when it cannot be read."""
    from PIL import Image, ImageOps
    try:
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im)
            im.load()
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise MediaError(f"{src.name}: cannot read the picture ({e})") from None
    return fit_picture(im, out_png, (width, height))


SPLIT_FADE = 0.01  # seconds of fade either side of a split of one clip's sound: no click


def part_cmd(src: Path, out: Path, start: int, end: int, fps, sound: bool, fade_in: bool, fade_out: bool) -> Command:
    """Frames [start, end) of a clip (a shot's part of a multi-shot clip), re-encoded in the house format
    at the clip's own rate; its sound cut at the same instants, with a short fade at a split so the
    cut does not click."""
    inp = source(src)
    video = inp.video.trim(start_frame=start, end_frame=end).setpts("PTS-STARTPTS")
    streams = [video]
    length = (end - start) / fps
    if sound:
        audio = inp.audio.filter("atrim", start=f"{float(start / fps):.6f}", end=f"{float(end / fps):.6f}").filter("asetpts", "PTS-STARTPTS")
        if fade_in:
            audio = audio.filter("afade", t="in", st=0, d=SPLIT_FADE)
        if fade_out:
            audio = audio.filter("afade", t="out", st=f"{max(0.0, float(length) - SPLIT_FADE):.6f}", d=SPLIT_FADE)
        streams.append(audio)
    rate = round(float(fps))
    opts = {**video_codec(rate), "r": fps, **(AUDIO if sound else {}), **BITEXACT}
    return compile(ff.output(*streams, safe_path(out), **opts), f"cutting {src.name} into shots",
                   timeout_for(float(length), "encode"))
