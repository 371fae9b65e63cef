"""Render the bundled examples with the offline animatic; print seconds of film per second of wall time.

    python bench/animatic.py            # a fresh cache each run: every shot is rendered
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    examples = [ROOT / "examples/keeper/keeper.yaml", ROOT / "examples/series/ep01.yaml", ROOT / "examples/series/ep02.yaml"]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYBOARD_CACHE"] = str(Path(tmp) / "cache")
        from storyboard.backends.voices import ScratchVoices
        from storyboard.pipeline import make_plan, prepare
        from storyboard.renderer import Renderer
        from storyboard.backends.base import create
        from storyboard.cache import Cache
        t = time.perf_counter()
        ScratchVoices.speak("warm up")
        load = time.perf_counter() - t
        print(f"voice model load: {load:.2f}s (once per process)")
        total_film = total_wall = 0.0
        for path in examples:
            prep = prepare(path, "animatic")
            plan = make_plan(prep, Cache())
            film = sum(j.shot.duration for j in plan.to_render)
            t = time.perf_counter()
            Renderer(plan, create(prep.caps), Cache(), prep.loaded.asset, concurrency=prep.caps.concurrency).run()
            wall = time.perf_counter() - t
            total_film += film
            total_wall += wall
            print(f"{path.name:12s} {film:5.1f}s of film in {wall:5.2f}s: {film / wall:4.1f}x realtime "
                  f"({prep.loaded.storyboard.defaults.size})")
        print(f"all shots    {total_film:5.1f}s of film in {total_wall:5.2f}s: {total_film / total_wall:4.1f}x realtime "
              f"({total_film / (total_wall + load):.1f}x with the voice load)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: {peak:.0f} MB in python, {child:.0f} MB in the largest ffmpeg")


if __name__ == "__main__":
    sys.exit(main())
