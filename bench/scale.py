"""A feature-length storyboard on the animatic: render time, cut time and the peak memory of the whole
process tree (python and every ffmpeg it runs at once, as PSS), for 150, 500 and 1,500 shots of 2 s.

    python bench/scale.py [--shots 150 500 1500] [--keep DIR]
    python bench/scale.py --film examples/screenplay/ferry.yaml     # a storyboard of your own instead
    python bench/scale.py --shots 1500 --cache /tmp/scale-cache      # keep the clips: the next run cuts only

Each size runs in a fresh child process (a fresh cache: every shot is rendered), sampled every 50 ms
from /proc, for the render and the cut apart; the cut's milliseconds per shot should stay flat as the
film grows. With `--cache DIR` the clips are rendered into DIR (one storyboard and cache per size) and
kept: a later run with the same DIR finds every shot there, renders nothing, and measures the cut alone
(made afresh every time, into a new folder), which is how to work on the cut's memory and time without
waiting for 1,500 shots to render again. Its render figures are then those of a cached run.
A 1,500-shot run takes many minutes on a loaded machine; run it in the background."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOVES = ["static", "dolly in", "pan left", "handheld", "zoom out", "tilt up", "orbit", "truck right"]
PLACES = ["Gate", "Dock", "Room", "Bay", "Lane", "Deck"]  # where each line calls from


def storyboard_yaml(shots: int) -> str:
    """`shots` shots of 2 s: mostly cuts, a dissolve every 10th, a fade every 25th, a line every 3rd,
    each line different (a feature's lines are: the voices must hold no more for 500 than for 50)."""
    out = ["version: 1", f"title: Scale {shots}", "defaults:", "  model: sora-2", "  size: 1280x720",
           "characters:",
           "  ana: {name: Ana, description: a tall woman in a green coat, voice: low and calm}",
           "  ben: {name: Ben, description: a short man with a red scarf, voice: quick and bright}",
           "locations:",
           "  hall: {description: a long empty hallway with tall windows, time: night}",
           "  yard: {description: a courtyard with a dry fountain, time: dawn}",
           "shots:"]
    for i in range(shots):
        who = "ana" if i % 2 == 0 else "ben"
        out += [f"  - id: s{i:05d}", "    duration: 2", f"    location: {'hall' if (i // 7) % 2 == 0 else 'yard'}",
                f"    characters: [{who}]", f"    camera: {{framing: medium, move: {MOVES[i % len(MOVES)]}}}",
                f"    action: {who.title()} crosses the frame, shot {i + 1}."]
        if i % 3 == 0:
            said = f"{PLACES[i % len(PLACES)]} {i // 3 + 1}, clear."  # each line its own: all are voiced
            out.append(f"    dialogue: [{{{who}: {json.dumps(said)}}}]")
        if i % 10 == 9 and i < shots - 1:
            out.append("    transition: dissolve 0.5s")
        elif i % 25 == 24 and i < shots - 1:
            out.append("    transition: fade 1s")
    return "\n".join(out) + "\n"


def top_python(limit: int = 8) -> list[str]:
    """The lines holding the most Python memory now (tracemalloc), largest first."""
    import tracemalloc
    stats = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]) \
        .statistics("lineno")
    return [f"{st.size / 2**20:7.1f} MB in {st.count:7d} blocks  {st.traceback[0].filename.split('site-packages/')[-1]}:"
            f"{st.traceback[0].lineno}" for st in stats[:limit]]


def one(shots: int, folder: Path, trace: bool = False, film: Path | None = None, cache: Path | None = None) -> dict:
    """Render and cut in this process; the figures as a dict (the parent adds the memory). With
    `trace`, Python's own allocations are traced (tracemalloc: slower) and the largest reported.
    With `cache`, the storyboard and the clips are kept there (see --cache)."""
    if cache is not None and film is None:
        cache = cache / f"scale{shots}"
        cache.mkdir(parents=True, exist_ok=True)
    os.environ["STORYBOARD_CACHE"] = str((cache or folder) / "cache")
    os.environ.pop("STORYBOARD_VOICE_CACHE", None)  # every line voiced, as on a first render (kept with --cache)
    if trace:
        import tracemalloc
        tracemalloc.start()
    traced = {}
    from storyboard import cutting
    from storyboard.backends.base import create
    from storyboard.store.cache import Cache
    from storyboard.pipeline import make_plan, prepare
    from storyboard.renderer import Renderer
    path = film or (cache or folder) / f"scale{shots}.yaml"
    if film is None:
        path.write_text(storyboard_yaml(shots))
    prep = prepare(path, "animatic")
    shots = len(prep.shots)
    (folder / "phase").write_text("render")  # read by the parent's memory sampler
    t, c = time.perf_counter(), cpu_seconds()
    plan = make_plan(prep, Cache())
    backend = create(prep.caps, Cache())
    try:
        outcomes = Renderer(plan, backend, Cache(), prep.loaded.asset, prep.caps.concurrency).run()
    finally:
        backend.close()
    render, render_cpu = time.perf_counter() - t, cpu_seconds() - c
    if trace:
        import tracemalloc
        traced["render_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        traced["after_render"] = top_python()
        tracemalloc.reset_peak()
    failed = [sid for sid, o in outcomes.items() if o.entry is None]
    (folder / "phase").write_text("cut")
    t, c, own = time.perf_counter(), cpu_seconds(), cpu_seconds(children=False)
    result = cutting.make(prep.loaded, outcomes, folder / "out")
    cut_s, cut_cpu, cut_own = time.perf_counter() - t, cpu_seconds() - c, cpu_seconds(children=False) - own
    if trace:
        traced["cut_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        traced["after_cut"] = top_python()
    import av
    with av.open(str(result.final)) as c:
        frames = sum(1 for _ in c.demux(c.streams.video[0]) if _.size)
    import resource
    return {"shots": shots, "render": render, "cut": cut_s, "render_cpu": render_cpu, "cut_cpu": cut_cpu,
            "cut_cpu_python": cut_own,
            "failed": len(failed), "frames": frames,
            "timeline": result.timeline.total_frames, "python_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loudness": result.loudness, "true_peak": result.true_peak, **traced}


def cpu_seconds(children: bool = True) -> float:
    """CPU-seconds of this process and every child it has waited for (every ffmpeg run to its end):
    steadier than wall time on a shared machine. Without `children`, this process's own."""
    t = os.times()
    return t.user + t.system + ((t.children_user + t.children_system) if children else 0.0)


def tree_memory_mb(root: int, kinds: bool = False):
    """Memory of `root` and all its descendants now (Linux /proc): the sum of their proportional set
    sizes (PSS), so pages shared between processes (the ffmpeg binary's code, run several times at
    once) count once."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            children.setdefault(int(stat[stat.rfind(")") + 2:].split()[1]), []).append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    def exe(pid: int) -> str:
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return ""
    def cmdline(pid: int) -> bytes:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read()
        except OSError:
            return b""
    python, line = exe(root), cmdline(root)
    total, todo, by_kind = 0, [root], {}
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        if pid != root and exe(pid) == python and cmdline(pid) == line:
            continue  # vfork'd on its way to exec ffmpeg: it shares (and would count twice) python's memory
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                kb = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            total += kb
            kind = ("python" if pid == root else "python child" if exe(pid) == python
                    else os.path.basename(exe(pid)).split("-")[0] or "other")
            by_kind[kind] = by_kind.get(kind, 0) + kb / 1024  # all of a kind alive at once
        except (OSError, StopIteration, ValueError):
            pass
    return (total / 1024, by_kind) if kinds else total / 1024


def measure(shots: int, keep: Path | None, trace: bool = False, film: Path | None = None,
            cache: Path | None = None) -> dict | None:
    """One size in a fresh child process: its figures with the peak PSS of the tree per phase, and
    the peak PSS of each kind of process in it (python, ffmpeg)."""
    with tempfile.TemporaryDirectory(dir=keep) as tmp:
        proc = subprocess.Popen([sys.executable, __file__, "--one", str(shots), "--dir", tmp]
                                + (["--trace"] if trace else []) + (["--film", str(film)] if film else [])
                                + (["--cache", str(cache)] if cache else []),
                                stdout=subprocess.PIPE, text=True, cwd=ROOT)
        peaks = {"render": 0.0, "cut": 0.0}
        done = threading.Event()

        def sample():
            phase = "render"
            while not done.is_set():
                try:
                    phase = (Path(tmp) / "phase").read_text() or phase  # empty while being written
                except OSError:
                    pass
                total, by_kind = tree_memory_mb(proc.pid, kinds=True)
                peaks[phase] = max(peaks.get(phase, 0.0), total)
                for kind, mb in by_kind.items():
                    key = f"{phase}_{kind}"
                    peaks[key] = max(peaks.get(key, 0.0), mb)
                time.sleep(0.05)
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        out, _ = proc.communicate()
        done.set()
        th.join()
        if proc.returncode:
            print(f"{film or shots} shots: failed (exit {proc.returncode})", flush=True)
            return None
        r = json.loads(out.strip().splitlines()[-1])
        r["pss_render"], r["pss_cut"] = peaks["render"], peaks["cut"]
        r["pss_by_kind"] = {k: round(v) for k, v in peaks.items() if k not in ("render", "cut")}
        return r


def show(r: dict) -> None:
    shots = r["shots"]
    exact = "exact" if r["frames"] == r["timeline"] else f"{r['frames']} frames of {r['timeline']}"
    print(f"{shots:6d} shots  render {r['render']:7.1f}s ({r['render_cpu']:7.1f} CPU-s)  cut {r['cut']:6.1f}s "
          f"({r['cut_cpu']:6.1f} CPU-s, {1000 * r['cut_cpu'] / shots:5.1f} CPU-ms/shot, "
          f"{1000 * r.get('cut_cpu_python', 0.0) / shots:4.1f} of them in python)  "
          f"peak PSS of the tree: render {r['pss_render']:4.0f} MB, cut {r['pss_cut']:4.0f} MB "
          f"(python alone {r['python_mb']:.0f} MB)  "
          f"{r['loudness']:.1f} LUFS {r['true_peak']:+.1f} dBTP  {r['failed']} failed, frames {exact}", flush=True)
    print(f"        peak PSS by kind of process (all alive at once): {r['pss_by_kind']}")
    for phase in ("render", "cut"):
        if f"after_{phase}" in r:
            print(f"        python's own allocations: peak {r[f'{phase}_peak_mb']:.0f} MB during the {phase}; "
                  f"held after it:")
            for line in r[f"after_{phase}"]:
                print(f"          {line}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, nargs="+", default=[150, 500, 1500])
    ap.add_argument("--keep", type=Path, help="folder for the temporary work (default: the system's)")
    ap.add_argument("--json", action="store_true", help="one JSON object per size instead of a line")
    ap.add_argument("--trace", action="store_true", help="trace Python's allocations too (tracemalloc; slower)")
    ap.add_argument("--film", type=Path, help="measure this storyboard (on the animatic) instead of the sizes")
    ap.add_argument("--cache", type=Path, help="keep the rendered clips in this folder: a later run cuts only")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(one(args.one, args.dir, args.trace, args.film, args.cache)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", file=sys.stderr, flush=True)
    failed = False
    for n in [0] if args.film else args.shots:
        r = measure(n, args.keep, args.trace, args.film and args.film.resolve(), args.cache and args.cache.resolve())
        failed |= r is None
        if r is not None:
            print(json.dumps(r), flush=True) if args.json else show(r)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
