"""A re-run with nothing changed: a film of --shots shots on the animatic is rendered and cut once,
then cut again from the cache; the second cut should rewrite nothing and take under a second
(issue 29 item 4). Prints CPU-seconds (this process and its ffmpeg children) and wall seconds,
medians of --runs interleaved runs, of the cut alone (cutting.make), of the whole `cut` step
(manifest, cut, exports, review page, boards, shot list) and of the whole `storyboard render`
command in a process of its own (start-up, load, plan and the cache's checks included); then every
file in the output folder written again (a new inode or modification time) by the first round of
re-runs (the first finds every clip in the cache, which the manifest records) and by the later ones.

    python bench/rerun.py [--shots 60] [--runs 3]"""

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn) -> tuple[float, float]:
    c, t = cpu_seconds(), time.perf_counter()
    fn()
    return cpu_seconds() - c, time.perf_counter() - t


def signs(out: Path) -> dict[Path, tuple[int, int]]:
    """Inode and modification time of every file under the output folder."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        os.environ["STORYBOARD_CACHE"] = str(d / "cache")
        os.environ["STORYBOARD_CONFIG"] = str(d / "config.toml")
        from scale import storyboard_yaml

        from storyboard import cutting, pipeline
        from storyboard.store.cache import Cache
        path = d / "film.yaml"
        path.write_text(storyboard_yaml(args.shots))
        (d / ".storyboard").write_text("")
        prep = pipeline.prepare(path, "animatic")
        out = d / "out"
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)

        def render_and_cut():
            pipeline.cut(prep, pipeline.render_shots(prep, pipeline.make_plan(prep, Cache())), out)
        cpu, wall = timed(render_and_cut)
        print(f"{args.shots} shots rendered and cut: {cpu:.1f} CPU-s, {wall:.1f}s wall", flush=True)
        before = signs(out)
        rendered = pipeline.render_shots(prep, pipeline.make_plan(prep, Cache()))  # all from the cache now
        command = [sys.executable, "-m", "storyboard", "render", str(path), "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        def cli():
            subprocess.run(command, env=env, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def cli_timed() -> tuple[float, float]:
            r0, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            cli()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, time.perf_counter() - t
        make, whole, command_ = [], [], []
        looks = [before]
        for _ in range(args.runs):  # interleaved, so a busy moment on a shared machine weighs on all three
            make.append(timed(lambda: cutting.make(prep.loaded, rendered.outcomes, out)))
            whole.append(timed(lambda: pipeline.cut(prep, rendered, out)))
            command_.append(cli_timed())
            looks.append(signs(out))
        for label, got in (("the cut again (cutting.make)", make), ("the whole cut step again", whole),
                           ("`storyboard render` again", command_)):
            print(f"{label:32s} {statistics.median(c for c, _ in got):6.2f} CPU-s  "
                  f"{statistics.median(w for _, w in got):6.2f}s wall (median of {args.runs})")
        for label, a, b in (("by the first round of re-runs", looks[0], looks[1]),
                            ("by the later rounds", looks[1], looks[-1])):
            rewritten = sorted(str(p.relative_to(out)) for p in set(a) | set(b) if a.get(p) != b.get(p))
            print(f"files written again {label}: {len(rewritten)} of {len(b)}"
                  + (f": {', '.join(rewritten[:12])}" if rewritten else ""))


if __name__ == "__main__":
    main()
