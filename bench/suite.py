"""How long the test suite takes on this machine: wall time and CPU time (the suite's processes and
every process they waited for: xdist workers, ffmpeg, the CLI runs). On a machine others share, CPU
time is the figure to compare; wall time is the one the issue's target (120 s on 2 cores) is about.

    python bench/suite.py [--slow] [--costs N] [--costs-file FILE] [-- PYTEST ARGS]

Runs the README's test command (`pytest -q -n auto --dist loadgroup`; --slow adds the slow tests, as
CI=true does) and prints one line: tests passed, wall seconds, CPU seconds, CPU / cores (the wall time
the same work needs on an otherwise idle machine with perfect balance) and the load average, which
says how much of the wall time was someone else's, and the time a fixed loop of Python took before
and after, which says how fast the machine itself was then (a shared host's pace moves by a third).
--costs N also prints the N dearest tests by CPU and by waiting (wall less CPU), setup and call
together, and the dearest test files, from tests/costs.py (--costs-file keeps its lines). A failed
test is named."""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dearest(path: Path, n: int) -> list[str]:
    """The n tests that cost the most CPU, and the n that waited the most, from tests/costs.py's lines."""
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    for line in path.read_text().splitlines():
        r = json.loads(line)
        wall[r["test"]] += r["wall"]
        cpu[r["test"]] += r["cpu"]
    out = [f"sum over tests: wall {sum(wall.values()):.0f} s, CPU {sum(cpu.values()):.0f} s "
           "(CPU of this process and what it waited for; each worker's start-up is not in it)",
           f"{n} dearest by CPU (CPU s, wall s):"]
    out += [f"  {cpu[t]:6.1f} {wall[t]:6.1f}  {t}" for t in sorted(cpu, key=lambda t: -cpu[t])[:n]]
    files: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for t in cpu:
        files[t.split("::")[0]][0] += 1
        files[t.split("::")[0]][1] += cpu[t]
    out.append(f"{n} dearest test files by CPU (tests, CPU s):")
    out += [f"  {k:4d} {c:6.1f}  {f}" for f, (k, c) in sorted(files.items(), key=lambda x: -x[1][1])[:n]]
    out.append(f"{n} that waited the most (wall - CPU s, wall s):")
    out += [f"  {wall[t] - cpu[t]:6.1f} {wall[t]:6.1f}  {t}"
            for t in sorted(wall, key=lambda t: -(wall[t] - cpu[t]))[:n]]
    return out


def speed() -> float:
    """CPU seconds this machine takes for a fixed piece of Python (0.57-0.60 on a quiet host here, 0.8 on
    a busy one): the suite's figures move with it, so each run prints it before and after."""
    t = time.process_time()
    sum(i * i for i in range(10 ** 7))
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slow", action="store_true", help="run the slow end-to-end tests too (as CI does)")
    ap.add_argument("--costs", type=int, default=0, metavar="N", help="print the N dearest tests too")
    ap.add_argument("--costs-file", type=Path, metavar="FILE", help="keep the per-test costs (JSON lines) in FILE")
    ap.add_argument("rest", nargs="*", help="more pytest arguments (after --)")
    args = ap.parse_args()
    if args.costs_file:
        args.costs = args.costs or 20
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-n", "auto", "--dist", "loadgroup", "-p", "no:cacheprovider",
           *(["--slow"] if args.slow else []), *(["-p", "tests.costs"] if args.costs else []), *args.rest]
    env = dict(os.environ)
    costs = args.costs_file or Path(tempfile.mkstemp(prefix="suite-costs-", suffix=".jsonl")[1])
    if args.costs_file:
        costs.write_text("")
    if args.costs:
        env["STORYBOARD_TEST_COSTS"] = str(costs)
    pace = speed()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = next((ln for ln in reversed(run.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", ln)), "?")
        cores = os.cpu_count() or 1
        print(f"{summary.strip('= ')}; wall {wall:.0f} s; CPU {cpu:.0f} s; CPU/{cores} cores {cpu / cores:.0f} s; "
              f"load average at the end {os.getloadavg()[0]:.1f}; a fixed loop took {pace:.2f} s before and "
              f"{speed():.2f} s after (the machine's pace)")
        if args.costs:
            print("\n".join(dearest(costs, args.costs)))
        failed = [ln for ln in run.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
        if failed:
            print("\n".join(failed))
    finally:
        if not args.costs_file:
            costs.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
