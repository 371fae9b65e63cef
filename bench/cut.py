"""Join 20 generated clips of 8 s at 1280x720 (test pattern + tone, house format) four ways and print
wall time, peak memory and whether the sound is exact at every join.

    python bench/cut.py [--clips 20] [--runs 3] [--moviepy]     (moviepy: pip install moviepy; slow, ~3 GB)

Rows: this tool's cut (hard cuts, then again with a dissolve at every join, loudness measured on the
final AAC included); the correct floor (picture copied, sound decoded, joined and re-encoded); plain
`-f concat -c copy` (fast, sound wrong); moviepy concatenate + write. The ways run side by side,
interleaved, the median of --runs each, in CPU-seconds (this process and every ffmpeg it ran: steady
on a shared machine) and wall seconds. Generated test patterns encode faster than real footage;
compare rows, not absolute seconds."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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


def cpu_seconds() -> float:
    """CPU-seconds of this process and of every child it has waited for (each ffmpeg, run to its end)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def check(label: str, cost: tuple[float, float], expected: float, out: Path,
          floor: tuple[float, float] | None = None) -> None:
    info = probe(out)
    gap = decoded_seconds(out) - info.video_duration  # the container's durations hide priming holes
    verdict = "sound exact" if abs(gap) < 1 / FPS else f"sound {gap:+.3f}s off the picture (holes at joins)"
    cpu, wall = cost
    ratio = f"{cpu / floor[0]:4.2f}x floor CPU, {wall / floor[1]:4.2f}x wall" if floor else " " * 30
    print(f"{label:48s} {cpu:7.2f} CPU-s {wall:7.2f}s wall  {ratio}  video {info.video_duration:7.3f}s of "
          f"{expected:.0f}s  {verdict}")


def medians_of(runs: int, fns: dict) -> dict[str, tuple[float, float]]:
    """Each way `runs` times, interleaved (the machine's load moves): each one's median
    (CPU-seconds, wall seconds)."""
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            c, t = cpu_seconds(), time.perf_counter()
            fn()
            got[k].append((cpu_seconds() - c, time.perf_counter() - t))
    return {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in got.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3, help="runs of each way; the median is shown")
    ap.add_argument("--moviepy", action="store_true")
    ap.add_argument("--dissolve", type=float, default=1.0,
                    help="seconds of each dissolve (1: on the clips' key frames; 0.5: off them, edges encoded)")
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

        def dissolve_floor():
            """By hand: one ffmpeg per join encoding one piece from the outgoing clip's last key frame
            before the dissolve to the incoming clip's first key frame after it (the dissolve inside),
            the rest copied in one concat, the sound decoded, joined and encoded once."""
            x_frames = round(args.dissolve * FPS)
            lead = -(-x_frames // FPS) * FPS  # from the key frame at or before the dissolve's start
            entries = []
            for i, c in enumerate(clips):
                start = 0 if i == 0 else lead
                end = SECS * FPS - (lead if i < n - 1 else 0)
                entries.append(ConcatEntry(c, inpoint=start * 1_000_000 // FPS, outpoint=end * 1_000_000 // FPS))
                if i < n - 1:
                    piece = d / f"join{i:02d}.mp4"
                    edge = lead - x_frames  # frames of each side outside the dissolve
                    a = ff.input(str(c), ss=f"{end / FPS:.6f}").video.trim(end_frame=lead).setpts("PTS-STARTPTS")
                    b = ff.input(str(clips[i + 1])).video.trim(end_frame=lead).setpts("PTS-STARTPTS")
                    x = ff.filter([a, b], "xfade", transition="fade", duration=f"{x_frames / FPS:.6f}",
                                  offset=f"{edge / FPS:.6f}")
                    run(compile(ff.output(x, str(piece), an=None, **video_codec(FPS), **{"frames:v": 2 * lead - x_frames}),
                                "join", 600))
                    entries.append(ConcatEntry(piece))
            run(compile(ff.output(concat_input(concat_script(entries)).video, str(d / "xpic.mp4"), c="copy"),
                        "floor picture", 600))
            sound = ff.input(str(clips[0])).audio
            for c in clips[1:]:
                sound = ff.filter([sound, ff.input(str(c)).audio], "acrossfade", d=args.dissolve)
            run(compile(ff.output(sound, str(d / "xa.wav"), **{"c:a": "pcm_s16le"}), "floor sound", 600))
            run(compile(ff.output(ff.input(str(d / "xpic.mp4")).video, ff.input(str(d / "xa.wav")).audio,
                                  str(d / "xfloor.mp4"), **{"c:v": "copy"}, **AUDIO), "floor mux", 600))

        def copy_all():
            run(compile(ff.output(concat_input(listing), str(d / "copy.mp4"), c="copy"), "copy", 600))

        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        best = medians_of(args.runs, {"cut": ours("cut", 0, d / "ours.mp4"), "floor": floor,
                                   "dissolve": ours("dissolve", args.dissolve, d / "ours_x.mp4"), "xfloor": dissolve_floor,
                                     "copy": copy_all})
        check("storyboard cut, hard cuts (+ loudness)", best["cut"], total, d / "ours.mp4", best["floor"])
        check(f"storyboard cut, {n - 1} dissolves of {args.dissolve:g}s (+ loudness)", best["dissolve"],
              total - (n - 1) * args.dissolve,
              d / "ours_x.mp4", best["xfloor"])
        check("correct floor: picture copied, sound re-encoded", best["floor"], total, d / "floor.mp4")
        check("dissolve floor: one encode per join, rest copied", best["xfloor"], total - (n - 1) * args.dissolve,
              d / "xfloor.mp4")
        check("plain ffmpeg -f concat -c copy", best["copy"], total, d / "copy.mp4")
        for kind, snd in sounds.items():
            print(f"loudness of the {kind} cut: {snd.loudness:.1f} LUFS, true peak {snd.true_peak:+.1f} dBTP "
                  f"(levels: {snd.levels})")
        print(f"peak memory of any ffmpeg so far: {child_peak_mb():.0f} MB")
        if args.moviepy:
            code = ("import sys\nfrom moviepy import VideoFileClip, concatenate_videoclips\n"
                    "c=[VideoFileClip(p) for p in sys.argv[2:]]\n"
                    "concatenate_videoclips(c).write_videofile(sys.argv[1], fps=24, codec='libx264', "
                    "audio_codec='aac', preset='veryfast', threads=2, logger=None)\n")
            out = d / "moviepy.mp4"
            c, t = cpu_seconds(), time.perf_counter()
            subprocess.run([sys.executable, "-c", code, str(out), *map(str, clips)], check=True,
                           env={"IMAGEIO_FFMPEG_EXE": exe(), "PATH": "/usr/bin:/bin"})
            check("moviepy concatenate + write (veryfast)", (cpu_seconds() - c, time.perf_counter() - t), total, out,
                  best["floor"])
            print(f"peak memory incl. moviepy: {child_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
