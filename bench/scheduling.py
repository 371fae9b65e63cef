"""Scheduling of paid renders: N independent shots whose jobs each take L seconds at the provider,
rendered C at a time through the real openai SDK against the fake Videos API on 127.0.0.1.
Ideal: ceil(N/C) x L. Prints the ratio (aim: within 1.2x).

    python bench/scheduling.py [--shots 12] [--latency 2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=12)
    ap.add_argument("--latency", type=float, default=2.0)
    ap.add_argument("--concurrency", type=int, nargs="*", default=[1, 4, 6])
    args = ap.parse_args()
    from tests.backends.fake_sora import FakeSora
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fake = FakeSora(tmp).start()
        fake.behaviour.latency = args.latency
        fake.clip(4, "1280x720")  # make the fake's media once, outside the timing
        (tmp / "config.toml").write_text("[backends.openai]\npoll_seconds = 0.1\n")
        (tmp / ".storyboard").write_text("")
        os.environ.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=fake.base_url,
                          STORYBOARD_CONFIG=str(tmp / "config.toml"))
        shots = "".join(f"  - {{id: s{i}, duration: 4, action: 'Shot {i} of the bench.'}}\n" for i in range(args.shots))
        (tmp / "bench.yaml").write_text(f"version: 1\nshots:\n{shots}")
        import storyboard
        from storyboard.store.cache import Cache
        for c in args.concurrency:
            cache = Cache(tmp / f"cache-{c}")
            prep = storyboard.compile(tmp / "bench.yaml", "openai")
            plan = storyboard.plan(prep, cache)
            t = time.perf_counter()
            out = storyboard.render_shots(prep, plan, cache=cache, concurrency=c, confirm=lambda p: True).outcomes
            wall = time.perf_counter() - t
            ideal = math.ceil(args.shots / c) * args.latency
            ok = sum(1 for o in out.values() if o.status == "rendered")
            print(f"N={args.shots} L={args.latency:g}s C={c}: {wall:6.2f}s, ideal {ideal:6.2f}s, "
                  f"ratio {wall / ideal:.2f} ({ok} rendered, verify and download included)")
        fake.stop()


if __name__ == "__main__":
    main()
