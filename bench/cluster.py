"""Two figures for working as a team (issue 28), printed:

1. A 300-shot animatic render (1 s shots at the default size) with `--cluster local:1` and `local:2` (and the
   ordinary in-process run for reference), each on a fresh local cache: wall time, shots a second.
   On a 2-core machine expect little gain: the animatic already renders two shots at a time in one
   process, and a worker process adds its own start-up and per-task messaging.
2. The per-shot overhead of the cache on object storage against the local folder, on moto's S3 at
   127.0.0.1: claim, look-up (a miss), publish of a real 1 s clip, release, then another machine's
   look-up, check and fetch; render time excluded.

    python bench/cluster.py [--shots 300] [--overhead-shots 40] [--skip-render]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def storyboard_text(n: int) -> str:
    actions = ["A door opens.", "A gull crosses the frame.", "Rain runs down a window.", "A taxi waits at a corner."]
    shots = "\n".join(f"  - {{id: s{i:03d}, duration: 1, action: '{actions[i % 4]} Take {i}.'}}" for i in range(n))
    return f"version: 1\ntitle: Bench\nshots:\n{shots}\n"


def render_run(path: Path, cluster: str | None) -> tuple[float, float, int]:
    """(wall seconds, seconds to start the cluster, shots rendered) on a fresh local cache."""
    import contextlib

    import storyboard
    from storyboard.store.cache import Cache
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        cache = Cache(cache_dir)
        prep = storyboard.compile(path, backend="animatic")
        plan = storyboard.plan(prep, cache)
        t0 = time.perf_counter()
        if cluster:
            from storyboard.cluster import connect
            ctx = connect(cluster)
        else:
            ctx = contextlib.nullcontext()
        with ctx as client:
            started = time.perf_counter() - t0
            t = time.perf_counter()
            done = storyboard.render_shots(prep, plan, cache=cache, cluster=client)
            wall = time.perf_counter() - t
        made = sum(o.status == "rendered" for o in done.outcomes.values())
        return wall, started, made
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def overhead(n: int) -> None:
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tests.objstore import SerialWritesMoto
    server = SerialWritesMoto(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=f"http://{host}:{port}")
    import s3fs

    from storyboard.animatic.backend import AnimaticBackend  # noqa: F401 - a real clip to move around
    from storyboard.store.cache import Cache
    from storyboard.store.shared import ObjectCache
    s3fs.S3FileSystem().call_s3("create_bucket", Bucket="bench")
    tmp = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    clip = _a_clip(tmp)
    size = clip.stat().st_size
    try:
        results = {}
        for name, make, other in (
                ("local folder", lambda: Cache(tmp / "local"), lambda: Cache(tmp / "local")),
                ("object storage (moto)", lambda: ObjectCache("s3://bench/team", local=tmp / "a"),
                 lambda: ObjectCache("s3://bench/team", local=tmp / "b"))):
            cache, reader = make(), other()
            t = time.perf_counter()
            for i in range(n):
                key = f"{i:04d}" + name[0] * 60
                lock = cache.request_lock(key)
                lock.acquire()
                assert cache.get(key) is None
                staged = cache.staging()
                shutil.copy(clip, staged / "clip.mp4")
                (staged / "last.png").write_bytes(b"png" * 1000)
                cache.publish(key, staged, {"key": key})
                cache.raise_take(key, 1)
                lock.release()
            made = (time.perf_counter() - t) / n
            t = time.perf_counter()
            for i in range(n):
                key = f"{i:04d}" + name[0] * 60
                entry = reader.get(key)
                assert entry is not None and reader.check(entry) is None and entry.clip.exists()
            served = (time.perf_counter() - t) / n
            results[name] = (made, served)
            print(f"{name:22s} make (claim, miss, publish, release): {made * 1000:6.1f} ms/shot; "
                  f"serve on another machine (get, check, fetch): {served * 1000:6.1f} ms/shot")
        (lm, ls), (om, os_) = results.values()
        print(f"object storage adds {(om - lm) * 1000:.0f} ms to each shot made and {(os_ - ls) * 1000:.0f} ms to each "
              f"shot served from another machine ({size / 1e3:.0f} kB clip, moto on 127.0.0.1: no real network)")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _a_clip(tmp: Path) -> Path:
    """A real 1 s animatic clip (what a shot's entry holds)."""
    import storyboard
    from storyboard.store.cache import Cache
    path = tmp / "one.yaml"
    path.write_text(storyboard_text(1))
    prep = storyboard.compile(path, backend="animatic")
    done = storyboard.render_shots(prep, cache=Cache(tmp / "clipcache"))
    return next(iter(done.outcomes.values())).entry.clip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=300)
    ap.add_argument("--overhead-shots", type=int, default=40)
    ap.add_argument("--skip-render", action="store_true")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    if not args.skip_render:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["STORYBOARD_CACHE"] = str(Path(tmp) / "unused")
            path = Path(tmp) / "bench.yaml"
            path.write_text(storyboard_text(args.shots))
            for label, cluster in (("in-process (2 threads)", None), ("--cluster local:1", "local:1"),
                                   ("--cluster local:2", "local:2")):
                wall, started, made = render_run(path, cluster)
                print(f"{label:24s} {made} shots in {wall:6.1f}s ({made / wall:4.2f} shots/s; "
                      f"cluster start {started:4.1f}s, not counted); load {os.getloadavg()[0]:.1f}")
    overhead(args.overhead_shots)


if __name__ == "__main__":
    sys.exit(main())
