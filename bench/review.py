"""The review page and boards of a 300-shot storyboard, on top of the render, and how fast the page
becomes interactive in Debian's chromium.

    python bench/review.py [--shots 300] [--distinct 8] [--no-browser]

The cache is seeded with real animatic clips: `--distinct` shots are rendered, and every other shot's
entry is a hard link to one of them under its own key (so each entry's stills are taken anew, as after
a real render; only the drawing and encoding of 300 clips is skipped). Targets: review.html and its
images under 10 s; the page interactive under 2 s."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHARACTERS = ["ana", "ben", "cleo", "dev"]
LOCATIONS = ["kitchen", "street", "roof", "station", "beach"]


def storyboard(n: int) -> str:
    lines = ["version: 1", f"title: Bench of {n} shots", "characters:"]
    lines += [f"  {c}: {{name: {c.title()}, description: a person called {c}, wardrobe: a {c} coat}}" for c in CHARACTERS]
    lines += ["locations:"]
    lines += [f"  {loc}: {{description: the {loc}, time: {'night' if k % 2 else 'day'}}}" for k, loc in enumerate(LOCATIONS)]
    lines += ["shots:"]
    for i in range(n):
        who = CHARACTERS[i % len(CHARACTERS)]
        lines += [f"  - id: s{i + 1:03d}", "    duration: 2", f"    location: {LOCATIONS[(i // 6) % len(LOCATIONS)]}",
                  f"    characters: [{who}]", f"    action: {who.title()} does thing number {i + 1}.",
                  "    dialogue:", f"      - {who}: Line {i + 1}."]
        if i % 10 == 9:
            lines.append("    transition: dissolve 0.5s")
    return "\n".join(lines) + "\n"


def seed(prep, cache, distinct: int) -> dict:
    """Render `distinct` shots; give every other shot an entry linked to one of those clips."""
    from storyboard.backends.base import create
    from storyboard.store.budget import Budget
    from storyboard.pipeline import make_plan
    from storyboard.model.jobs import Plan
    from storyboard.model.jobs import Outcome
    from storyboard.renderer import Renderer
    p = make_plan(prep, cache)
    backend = create(prep.caps, cache)
    t = time.perf_counter()
    made = Renderer(Plan(p.backend, p.jobs[:distinct]), backend, cache, prep.loaded.asset, 2, Budget()).run()
    print(f"rendered {distinct} distinct clips for the seed in {time.perf_counter() - t:.1f}s")
    sources = [o.entry for o in made.values()]
    outcomes = dict(made)
    for k, job in enumerate(p.jobs[distinct:]):
        src = sources[k % len(sources)]
        staged = cache.staging()
        os.link(src.clip, staged / "clip.mp4")
        cache.publish(job.key, staged, dict(src.meta, key=job.key, shot=job.shot.id))
        outcomes[job.shot.id] = Outcome(job, "rendered", cache.get(job.key))
    return p, outcomes


def interactive(html: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print("chromium: not installed (/usr/bin/chromium); skipped")
        return
    from playwright.sync_api import sync_playwright
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=flags)
        for run in ("cold", "warm"):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t = time.perf_counter()
            page.goto(html.as_uri(), wait_until="domcontentloaded")
            page.wait_for_function("() => window.storyboardReview && window.storyboardReview.ready")
            page.select_option("#f-char", "ben")
            page.wait_for_function("() => document.getElementById('shown').textContent.startsWith('75 of')")
            wall = time.perf_counter() - t
            nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                " return [n.domInteractive, n.domContentLoadedEventEnd, n.loadEventEnd]; }")
            print(f"chromium ({run}): a filter answers {wall:.2f}s after navigation starts; dom interactive "
                  f"{nav[0] / 1000:.2f}s, DOMContentLoaded {nav[1] / 1000:.2f}s, load {nav[2] / 1000:.2f}s (target < 2 s)")
            page.close()
        browser.close()


def _cpu() -> float:
    """CPU seconds of this process, every thread: the cost whatever else the machine is doing."""
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=300)
    ap.add_argument("--distinct", type=int, default=8)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["STORYBOARD_CACHE"] = str(root / "cache")
        (root / ".storyboard").write_text("")
        path = root / "bench.yaml"
        path.write_text(storyboard(args.shots))
        from storyboard.store.cache import Cache
        from storyboard.exports import boards, review
        from storyboard.pipeline import prepare
        prep = prepare(path)
        cache = Cache()
        plan, outcomes = seed(prep, cache, args.distinct)
        out = root / "out"
        for run in ("first", "again"):
            t, cpu = time.perf_counter(), _cpu()
            review.write(prep, plan, outcomes, out, cache)
            print(f"review.html and review/ for {args.shots} shots ({run}): {time.perf_counter() - t:.2f}s "
                  f"(target < 10 s); {_cpu() - cpu:.2f} CPU-seconds, load average {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores")
        size = sum(f.stat().st_size for f in (out / "review").glob("*.jpg")) / 1e6
        print(f"  {len(list((out / 'review').glob('*.jpg')))} stills, {size:.1f} MB; page "
              f"{(out / 'review.html').stat().st_size / 1e3:.0f} kB")
        t = time.perf_counter()
        boards.write(prep, plan, outcomes, out, cache)
        print(f"boards.pdf and shotlist.csv: {time.perf_counter() - t:.2f}s "
              f"({(out / 'boards.pdf').stat().st_size / 1e6:.1f} MB)")
        if not args.no_browser:
            interactive(out / "review.html")


if __name__ == "__main__":
    main()
