"""Join 20 generated clips of 8 s at 1280x720 (test pattern + tone, house format) four ways and print
wall time, peak memory and whether the sound is exact at every join.

    python bench/cut.py [--clips 20] [--moviepy]     (moviepy: pip install moviepy; slow, ~3 GB)

Rows: this tool's cut (hard cuts, then again with a dissolve at every join, loudness pass included);
the correct floor (picture copied, sound decoded, joined and re-encoded); plain `-f concat -c copy`
(fast, sound wrong); moviepy concatenate + write. Generated test patterns encode faster than real
footage; compare rows, not absolute seconds."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storyboard.media import assemble  # noqa: E402
from storyboard.media.clips import AUDIO, video_codec  # noqa: E402
from storyboard.media.ffmpeg import exe, run  # noqa: E402
from storyboard.media.probe import probe  # noqa: E402
from storyboard.timeline import build  # noqa: E402

FPS, W, H, SECS = 24, 1280, 720, 8


def decoded_seconds(path: Path) -> float:
    """Seconds of sound actually decoded (samples / rate), not what the container claims."""
    import av
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        return sum(f.samples for f in c.decode(stream)) / stream.rate


def child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed(label: str, fn, expected: float, out: Path) -> None:
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    info = probe(out)
    gap = decoded_seconds(out) - info.video_duration  # the container's durations hide priming holes
    verdict = "sound exact" if abs(gap) < 1 / FPS else f"sound {gap:+.3f}s off the picture (holes at joins)"
    print(f"{label:44s} {wall:7.2f}s  video {info.video_duration:7.3f}s of {expected:.0f}s  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--moviepy", action="store_true")
    args = ap.parse_args()
    n = args.clips
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        clips = []
        for i in range(n):
            p = d / f"c{i:02d}.mp4"
            run(["-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}", "-f", "lavfi",
                 "-i", f"sine=frequency={200 + 20 * i}:sample_rate=48000", "-t", str(SECS),
                 *video_codec(FPS), *AUDIO, str(p)])
            clips.append(p)
        print(f"made {n} clips of {SECS}s at {W}x{H} in {time.perf_counter() - t:.1f}s")
        total = n * SECS

        def ours(kind: str, secs: float, out: Path):
            def go():
                tl = build([(f"s{i}", SECS, kind, secs) for i in range(n)], FPS, W, H)
                work = d / f"work-{kind}"
                work.mkdir(exist_ok=True)
                keys = {i: assemble.keyframes(c, FPS) for i, c in enumerate(clips)}
                assemble.make_cut(tl, clips, work, out, keyframes_of=keys)
            return go

        listing = d / "list.txt"
        listing.write_text("".join(f"file '{c.name}'\n" for c in clips))

        def floor():
            run(["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v", "-c", "copy", str(d / "pic.mp4")])
            inputs = []
            for c in clips:
                inputs += ["-i", str(c)]
            graph = "".join(f"[{i}:a]" for i in range(n)) + f"concat=n={n}:v=0:a=1[a]"
            run([*inputs, "-filter_complex", graph, "-map", "[a]", "-c:a", "pcm_s16le", str(d / "a.wav")])
            run(["-i", str(d / "pic.mp4"), "-i", str(d / "a.wav"), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                 *AUDIO, str(d / "floor.mp4")])

        def copy_all():
            run(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(d / "copy.mp4")])

        timed("storyboard cut, hard cuts (+ loudness pass)", ours("cut", 0, d / "ours.mp4"), total, d / "ours.mp4")
        timed(f"storyboard cut, {n - 1} dissolves of 1s", ours("dissolve", 1, d / "ours_x.mp4"), total - (n - 1), d / "ours_x.mp4")
        timed("correct floor: picture copied, sound re-encoded", floor, total, d / "floor.mp4")
        timed("plain ffmpeg -f concat -c copy", copy_all, total, d / "copy.mp4")
        print(f"peak memory of any ffmpeg so far: {child_peak_mb():.0f} MB")
        if args.moviepy:
            code = ("import sys\nfrom moviepy import VideoFileClip, concatenate_videoclips\n"
                    "c=[VideoFileClip(p) for p in sys.argv[2:]]\n"
                    "concatenate_videoclips(c).write_videofile(sys.argv[1], fps=24, codec='libx264', "
                    "audio_codec='aac', preset='veryfast', threads=2, logger=None)\n")
            out = d / "moviepy.mp4"

            def mp():
                subprocess.run([sys.executable, "-c", code, str(out), *map(str, clips)], check=True,
                               env={"IMAGEIO_FFMPEG_EXE": exe(), "PATH": "/usr/bin:/bin"})
            timed("moviepy concatenate + write (veryfast)", mp, total, out)
            print(f"peak memory incl. moviepy: {child_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
