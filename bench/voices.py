"""The scratch voices at feature length: lines voiced ahead by the voices' process, its peak memory
(largest resident size, from the kernel's accounting of finished children) and the time, for a
film's worth of different lines and for ten times as many. Memory must not grow with the lines.

    python bench/voices.py [--lines 20 200]

Each size runs in a fresh process with an empty line store (every line is voiced)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(n: int) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from animatic import PLACES, STATES, THINGS
    from storyboard.animatic import voices
    os.environ["STORYBOARD_VOICE_CACHE"] = tempfile.mkdtemp()
    lines = [(f"The {THINGS[i % len(THINGS)]} by the {PLACES[i % len(PLACES)]} is "
              f"{STATES[(i // (len(THINGS) * len(PLACES))) % len(STATES)]}.", voices._variant("woman", i % 3), 3.0, "")
             for i in range(n)]
    assert len({line[0] for line in lines}) == n  # every line different: nothing read twice
    t = time.perf_counter()
    process = voices.VoiceProcess()
    process.speak_all(lines)
    wall = time.perf_counter() - t
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"lines": n, "wall": wall, "cpu": child.ru_utime + child.ru_stime, "peak_mb": child.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[20, 200])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = []
    for n in args.lines:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            sys.exit(out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{r['lines']:5d} lines of 3 s: {r['wall']:6.1f} s, {r['cpu'] / r['lines']:.3f} CPU-s a line, "
              f"the voices' process at most {r['peak_mb']:.0f} MB resident")
    if len(rows) > 1:
        print(f"memory from {rows[0]['lines']} to {rows[-1]['lines']} lines: "
              f"{rows[-1]['peak_mb'] / rows[0]['peak_mb']:.2f}x")


if __name__ == "__main__":
    main()
