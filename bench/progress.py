"""The render's progress display at scale: the cost of one event, and of one picture, for a film of
N shots (every shot queued, then working, then done: three events each), drawn on a fake terminal.
An event should cost the same at 10,000 shots as at 100: it only counts; the picture is drawn by
the live display four times a second.

    python bench/progress.py [--shots 100 1500 10000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, nargs="*", default=[100, 1500, 10000])
    args = ap.parse_args()
    from rich.console import Console

    from storyboard import cli
    from storyboard.model.jobs import Event
    cli.out = Console(file=io.StringIO(), force_terminal=True, width=120)
    for n in args.shots:
        jobs = [SimpleNamespace(shot=SimpleNamespace(id=f"s{k:05d}")) for k in range(n)]
        batch = SimpleNamespace(items=[(None, SimpleNamespace(jobs=jobs))])
        display = cli._Progress(batch, ["film"])
        t0 = time.perf_counter()
        with display:
            for state in ("queued", "drawing", "done"):
                for k in range(n):
                    display.event(0, Event(f"s{k:05d}", state))
            per_event = (time.perf_counter() - t0) / (3 * n)
            t1 = time.perf_counter()
            for _ in range(20):
                display.picture()
            per_picture = (time.perf_counter() - t1) / 20
        print(f"{n:6d} shots: {per_event * 1e6:6.1f} us per event, {per_picture * 1e3:6.2f} ms per picture "
              f"({'bar' if display.bar else 'table'})")


if __name__ == "__main__":
    main()
