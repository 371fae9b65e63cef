"""A re-run with nothing changed: a film of --shots shots on the animatic is rendered and cut once,
then cut again from the cache; the second cut should rewrite nothing and take under a second
(issue 29 item 4). Prints CPU-seconds (this process and its ffmpeg children) and wall seconds of the
cut alone (cutting.make) and of the whole `cut` step (manifest, review page, boards too).

    python bench/rerun.py [--shots 60] [--runs 3]"""

from __future__ import annotations

import argparse
import os
import statistics
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        os.environ["STORYBOARD_CACHE"] = str(d / "cache")
        from scale import storyboard_yaml

        from storyboard import cutting, pipeline
        from storyboard.store.cache import Cache
        path = d / "film.yaml"
        path.write_text(storyboard_yaml(args.shots))
        prep = pipeline.prepare(path, "animatic")
        out = d / "out"
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        first = {}

        def render_and_cut():
            rendered = pipeline.render_shots(prep, pipeline.make_plan(prep, Cache()))
            first["rendered"] = rendered
            pipeline.cut(prep, rendered, out)
        cpu, wall = timed(render_and_cut)
        print(f"{args.shots} shots rendered and cut: {cpu:.1f} CPU-s, {wall:.1f}s wall", flush=True)
        signs = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
        rendered = pipeline.render_shots(prep, pipeline.make_plan(prep, Cache()))  # all from the cache now
        make, whole = [], []
        for _ in range(args.runs):
            make.append(timed(lambda: cutting.make(prep.loaded, rendered.outcomes, out)))
            whole.append(timed(lambda: pipeline.cut(prep, rendered, out)))
        rewritten = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                           if p.is_file() and signs.get(p) != p.stat().st_mtime_ns)
        for label, got in (("the cut again (cutting.make)", make), ("the whole cut step again", whole)):
            print(f"{label:32s} {statistics.median(c for c, _ in got):6.2f} CPU-s  "
                  f"{statistics.median(w for _, w in got):6.2f}s wall (median of {args.runs})")
        print(f"files written again: {len(rewritten)}: {', '.join(rewritten[:12])}")


if __name__ == "__main__":
    main()
