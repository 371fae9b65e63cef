"""Helpers for tests on real media: generated clips (ffmpeg's own test sources) and measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from storyboard.media.ffmpeg import run


# a flat ground with a box crossing it: frames that differ, at a tenth of the test pattern's bytes, and
# decoded in under half its time (a 4 s 1280x720 clip: 0.06 CPU-s against 0.13; its conform 0.28 against 0.38)
PLAIN = "color=c=0x3c5a78:size={size}:rate={fps},drawbox=x='mod(t*400,iw-80)':y=ih/2-40:w=80:h=80:c=0xe0c040:t=fill"


def make_clip(path: Path, seconds: float, size: str = "320x180", fps: int = 24, tone: float | None = 440.0,
              rate: int = 48000, channels: int = 2, house: bool = True, crf: int = 23, plain: bool = False) -> Path:
    """A test clip: moving test pattern (`plain`: a box crossing a flat ground), optional sine tone.
    house=True encodes in the house format; otherwise at quality `crf` (higher: smaller files)."""
    import ffmpeg as ff

    from storyboard.media.clips import AUDIO, video_codec
    from storyboard.media.ffmpeg import compile, timeout_for
    picture = PLAIN.format(size=size, fps=fps) if plain else f"testsrc2=size={size}:rate={fps}"
    streams = [ff.input(picture, f="lavfi").video]
    if tone is not None:
        streams.append(ff.input(f"sine=frequency={tone}:sample_rate={rate}", f="lavfi").audio)
    if house:
        opts = {**video_codec(fps), **(AUDIO if tone is not None else {})}
    else:
        opts = {"c:v": "libx264", "preset": "ultrafast", "crf": crf, "pix_fmt": "yuv420p"}
        if tone is not None:
            opts.update({"c:a": "aac", "ar": rate, "ac": channels})
    run(compile(ff.output(*streams, str(path), t=f"{seconds}", **opts), "test clip", timeout_for(seconds, "encode")))
    return path


def make_bursts(path: Path, seconds: float, size: str = "320x180", fps: int = 24) -> Path:
    """A house clip whose sound is peaky like speech: a tone in syllables (4 a second) with a sharp
    2 ms click every half second, peaks about 15 dB over the loudness (more than -14 LUFS under
    -1 dBTP allows a plain gain)."""
    import ffmpeg as ff

    from storyboard.media.clips import AUDIO, video_codec
    from storyboard.media.ffmpeg import compile, timeout_for
    tone = "0.12*sin(2*PI*220*t)*pow(sin(4*PI*t),2)+if(lt(mod(t,0.5),0.002),0.95*sin(2*PI*2000*t),0)"
    streams = [ff.input(f"testsrc2=size={size}:rate={fps}", f="lavfi").video,
               ff.input(f"aevalsrc=exprs='{tone}|{tone}':s=48000", f="lavfi").audio]
    run(compile(ff.output(*streams, str(path), t=f"{seconds}", **video_codec(fps), **AUDIO), "test clip",
                timeout_for(seconds, "encode")))
    return path


class ClipStore:
    """Test clips made once per (length, size, fps, rate, tone) and kept, for fake providers to serve.
    The folder may be shared by every fake of the run and every xdist worker (tests/conftest.py
    fake_media): a clip is made under a file lock by the first process that needs it."""

    def __init__(self, folder: Path, fps: int, rate: int, tone: float):
        import threading
        self.folder, self.fps, self.rate, self.tone = folder, fps, rate, tone
        self.lock = threading.Lock()

    def _made(self, path: Path, make) -> Path:
        """`path`, made by `make(part)` unless a thread or process made it already."""
        import contextlib
        import fcntl
        import os
        with self.lock, open(path.with_suffix(".lock"), "a+") as held:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
            if not path.exists():
                part = path.with_suffix(f".part{os.getpid()}.mp4")
                try:
                    make(part)
                    part.rename(path)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        part.unlink()
        return path

    def from_still(self, still: Path, seconds: float, size: str) -> Path:
        """A clip of a still picture (a face photo, or none), fitted into `size` on a dark ground with a
        slow push in, so that the frames differ as a generated shot's do."""
        import hashlib
        tag = hashlib.sha256(Path(still).read_bytes()).hexdigest()[:12]
        # one second of the push in, repeated by copying (as get() does): 0.6 CPU-s a clip at 1280x720 was zoompan's
        second = self._made(self.folder / f"still-{tag}-{self.fps}-{size}.mp4",
                            lambda part: make_still_clip(part, still, 1, size, self.fps, tone=None))
        path = self.folder / f"still-{tag}-{self.fps}-{self.rate}-{self.tone:g}-{seconds:g}-{size}.mp4"
        return self._made(path, lambda part: looped(part, second, seconds, self.tone, self.rate))

    def get(self, seconds: float, size: str) -> Path:
        # small files (plain pictures at crf 45): the fakes' clips cross HTTP, are uploaded for extensions,
        # hashed, decoded and conformed in every test. The picture is one second encoded once per size and
        # rate and repeated by copying (a 16 s 1280x720 clip: 0.4 CPU-s, not 1.4); the sound is encoded whole
        second = self._made(self.folder / f"second-{self.fps}-{size}.mp4",
                            lambda part: make_clip(part, 1, size=size, fps=self.fps, tone=None, house=False, crf=45,
                                                   plain=True))
        path = self.folder / f"plain-{self.fps}-{self.rate}-{self.tone:g}-{seconds:g}-{size}.mp4"
        return self._made(path, lambda part: looped(part, second, seconds, self.tone, self.rate))


def looped(path: Path, picture: Path, seconds: float, tone: float, rate: int) -> Path:
    """A clip of `seconds`: `picture` (a clip without sound) repeated by copying, with a sine tone."""
    import ffmpeg as ff

    from storyboard.media.ffmpeg import compile, timeout_for
    v = ff.input(str(picture), stream_loop=-1).video
    a = ff.input(f"sine=frequency={tone}:sample_rate={rate}", f="lavfi").audio
    run(compile(ff.output(v, a, str(path), t=f"{seconds}", vcodec="copy", acodec="aac", ar=rate, ac=2, f="mp4"),
                "test clip", timeout_for(seconds, "encode")))
    return path


def make_still_clip(path: Path, still: Path, seconds: float, size: str, fps: int = 30, tone: float | None = 330.0,
                    rate: int = 44100) -> Path:
    """A clip of a still: the picture fitted into the frame (height-filling, centred), pushed in by 4 %
    over the clip, with a tone if one is given; encoded as a provider's would be (key frame every 2 s)."""
    import ffmpeg as ff

    from storyboard.media.ffmpeg import compile, timeout_for
    w, h = (int(v) for v in size.split("x"))
    frames = max(1, round(seconds * fps))
    # the still is read and fitted once, then repeated (the loop filter): an image input looped by the
    # demuxer is decoded and scaled again for every frame, half of the clip's making
    pic = (ff.input(str(still))
           .filter("scale", -2, h).filter("pad", f"max(iw,{w})", h, "(ow-iw)/2", 0, color="0x28323c")
           .filter("loop", loop=-1, size=1).filter("setpts", f"N/{fps}/TB")
           .filter("zoompan", z=f"1+0.04*on/{frames}", d=1, s=f"{w}x{h}", fps=fps)
           .filter("format", "yuv420p"))
    streams, sound = [pic], {}
    if tone is not None:
        streams.append(ff.input(f"sine=frequency={tone}:sample_rate={rate}", f="lavfi").audio)
        sound = {"acodec": "aac", "ar": rate}
    run(compile(ff.output(*streams, str(path), t=f"{seconds}", vcodec="libx264", preset="ultrafast", crf=30,
                          g=2 * fps, f="mp4", **sound), "still clip", timeout_for(seconds, "encode")))
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


def make_tone(path: Path, seconds: float, frequency: float = 1000.0, rate: int = 44100, channels: int = 1) -> Path:
    """A sound file of a sine tone (a music bed for tests), in the format its name says."""
    import ffmpeg as ff

    from storyboard.media.ffmpeg import compile, timeout_for
    tone = ff.input(f"sine=frequency={frequency}:sample_rate={rate}", f="lavfi").audio
    run(compile(ff.output(tone, str(path), t=f"{seconds}", ac=channels), "test tone", timeout_for(seconds, "audio")))
    return path
