"""Join 20 generated clips of 8 s at 1280x720 (test pattern + tone, house format) four ways and print
wall time, peak memory and whether the sound is exact at every join.

    python bench/cut.py [--clips 20] [--runs 3] [--moviepy]     (moviepy: pip install moviepy; slow, ~3 GB)

Rows: this tool's cut (hard cuts, then again with a dissolve at every join, loudness measured on the
final AAC included); the correct floor (picture copied, sound decoded, joined and re-encoded); plain
`-f concat -c copy` (fast, sound wrong); moviepy concatenate + write. The ways run side by side,
interleaved, fastest of --runs each. Generated test patterns encode faster than real footage;
compare rows, not absolute seconds."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ffmpeg as ff  # noqa: E402

from storyboard.media import assemble  # noqa: E402
from storyboard.media.clips import AUDIO, video_codec  # noqa: E402
from storyboard.media.ffmpeg import compile, concat_input, concat_script, ConcatEntry, exe, run  # noqa: E402
from storyboard.media.probe import probe  # noqa: E402
from storyboard.stages.timeline import build  # noqa: E402

FPS, W, H, SECS = 24, 1280, 720, 8


def decoded_seconds(path: Path) -> float:
    """Seconds of sound actually decoded (samples / rate), not what the container claims."""
    import av
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        return sum(f.samples for f in c.decode(stream)) / stream.rate


def child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def check(label: str, wall: float, expected: float, out: Path, floor: float | None = None) -> None:
    info = probe(out)
    gap = decoded_seconds(out) - info.video_duration  # the container's durations hide priming holes
    verdict = "sound exact" if abs(gap) < 1 / FPS else f"sound {gap:+.3f}s off the picture (holes at joins)"
    ratio = f"{wall / floor:4.2f}x floor" if floor else " " * 10
    print(f"{label:48s} {wall:7.2f}s {ratio}  video {info.video_duration:7.3f}s of {expected:.0f}s  {verdict}")


def best_of(runs: int, fns: dict) -> dict:
    """Each way `runs` times, interleaved (the machine's load moves), keeping each one's fastest."""
    best = {k: float("inf") for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3, help="runs of each way; the fastest is shown")
    ap.add_argument("--moviepy", action="store_true")
    args = ap.parse_args()
    n = args.clips
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        clips = []
        for i in range(n):
            p = d / f"c{i:02d}.mp4"
            pattern = ff.input(f"testsrc2=size={W}x{H}:rate={FPS}", f="lavfi").video
            tone = ff.input(f"sine=frequency={200 + 20 * i}:sample_rate=48000", f="lavfi").audio
            run(compile(ff.output(pattern, tone, str(p), t=SECS, **video_codec(FPS), **AUDIO), "clip", 600))
            clips.append(p)
        print(f"made {n} clips of {SECS}s at {W}x{H} in {time.perf_counter() - t:.1f}s (test pattern + tone)")
        total = n * SECS
        sounds: dict[str, assemble.CutSound] = {}

        def ours(kind: str, secs: float, out: Path):
            def go():
                tl = build([(f"s{i}", SECS, kind, secs) for i in range(n)], FPS, W, H)
                work = d / f"work-{kind}"
                work.mkdir(exist_ok=True)
                keys = {i: assemble.keyframes(c, FPS) for i, c in enumerate(clips)}
                sounds[kind] = assemble.make_cut(tl, clips, work, out, keyframes_of=keys)
            return go

        listing = concat_script([ConcatEntry(c) for c in clips])

        def floor():
            run(compile(ff.output(concat_input(listing).video, str(d / "pic.mp4"), c="copy"), "floor picture", 600))
            sound = ff.concat(*(ff.input(str(c)).audio for c in clips), v=0, a=1)
            run(compile(ff.output(sound, str(d / "a.wav"), **{"c:a": "pcm_s16le"}), "floor sound", 600))
            run(compile(ff.output(ff.input(str(d / "pic.mp4")).video, ff.input(str(d / "a.wav")).audio,
                                  str(d / "floor.mp4"), **{"c:v": "copy"}, **AUDIO), "floor mux", 600))

        def copy_all():
            run(compile(ff.output(concat_input(listing), str(d / "copy.mp4"), c="copy"), "copy", 600))

        best = best_of(args.runs, {"cut": ours("cut", 0, d / "ours.mp4"), "floor": floor,
                                   "dissolve": ours("dissolve", 1, d / "ours_x.mp4"), "copy": copy_all})
        check("storyboard cut, hard cuts (+ loudness)", best["cut"], total, d / "ours.mp4", best["floor"])
        check(f"storyboard cut, {n - 1} dissolves of 1s (+ loudness)", best["dissolve"], total - (n - 1),
              d / "ours_x.mp4", best["floor"])
        check("correct floor: picture copied, sound re-encoded", best["floor"], total, d / "floor.mp4")
        check("plain ffmpeg -f concat -c copy", best["copy"], total, d / "copy.mp4")
        for kind, snd in sounds.items():
            print(f"loudness of the {kind} cut: {snd.loudness:.1f} LUFS, true peak {snd.true_peak:+.1f} dBTP, "
                  f"{snd.passes} AAC pass{'es' * (snd.passes > 1)}")
        print(f"peak memory of any ffmpeg so far: {child_peak_mb():.0f} MB")
        if args.moviepy:
            code = ("import sys\nfrom moviepy import VideoFileClip, concatenate_videoclips\n"
                    "c=[VideoFileClip(p) for p in sys.argv[2:]]\n"
                    "concatenate_videoclips(c).write_videofile(sys.argv[1], fps=24, codec='libx264', "
                    "audio_codec='aac', preset='veryfast', threads=2, logger=None)\n")
            out = d / "moviepy.mp4"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code, str(out), *map(str, clips)], check=True,
                           env={"IMAGEIO_FFMPEG_EXE": exe(), "PATH": "/usr/bin:/bin"})
            check("moviepy concatenate + write (veryfast)", time.perf_counter() - t, total, out, best["floor"])
            print(f"peak memory incl. moviepy: {child_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
