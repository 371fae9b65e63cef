"""How long the test suite takes on this machine: wall time and CPU time (the suite's processes and
every process they waited for: xdist workers, ffmpeg, the CLI runs). On a machine others share, CPU
time is the figure to compare; wall time is the one the issue's target (120 s on 2 cores) is about.

    python bench/suite.py [--slow] [-- PYTEST ARGS]

Prints one line: tests passed, wall seconds, CPU seconds, and CPU / cores (the wall time the same
work needs on an otherwise idle machine with perfect balance)."""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slow", action="store_true", help="run the slow end-to-end tests too (as CI does)")
    ap.add_argument("rest", nargs="*", help="more pytest arguments (after --)")
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "auto", "-p", "no:cacheprovider", *(["--slow"] if args.slow else []),
           *args.rest]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((ln for ln in reversed(run.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", ln)), "?")
    cores = os.cpu_count() or 1
    print(f"{summary.strip('= ')}; wall {wall:.0f} s; CPU {cpu:.0f} s; CPU/{cores} cores {cpu / cores:.0f} s; "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
