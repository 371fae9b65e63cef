"""The review room's figures, in Debian's chromium.

    python bench/serve.py [--edits 3] [--shots 300] [--skip-keeper] [--skip-page]

1. examples/keeper in `storyboard serve` (a real subprocess, its own fresh cache; the first start
   renders the six shots with the animatic): an action line edited and saved, then the seconds until
   that shot's card on the open page shows the new words, until it shows the new clip's frames (the
   shot re-rendered), and until the player has the new cut. Target: the card under 10 s on 2 cores.
2. A 300-shot storyboard (bench/review.py's, its cache seeded the same way): the seconds the room
   takes to build its page, and how fast chromium loads it (DOMContentLoaded, load, the room's script
   ready) and swaps in an update (every card compared, the changed ones replaced)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def keeper(browser, edits: int) -> None:
    import json
    import urllib.request
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "keeper"
        shutil.copytree(ROOT / "examples" / "keeper", project)
        (project / ".storyboard").write_text("")
        env = {**os.environ, "STORYBOARD_CACHE": str(Path(tmp) / "cache"), "STORYBOARD_CONFIG": str(Path(tmp) / "c.toml")}
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "storyboard.cli", "serve", "keeper.yaml", "--port", "0"],
                                cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        url = re.search(r"http://\S+/", proc.stdout.readline()).group(0)

        def state() -> dict:
            with urllib.request.urlopen(url + "state", timeout=10) as r:
                return json.loads(r.read())

        while not (s := state())["cut"] or s["busy"]:
            time.sleep(0.2)
        print(f"keeper: first start (6 shots rendered with the animatic, then cut): {time.perf_counter() - t:.1f}s")
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(url)
        page.wait_for_function("() => window.storyboardRoom && window.storyboardRoom.ready")
        page.evaluate("() => { window.notReloaded = true; }")
        film = project / "keeper.yaml"
        words, cards, cuts = [], [], []
        for k in range(edits):
            text = film.read_text()
            ids = re.findall(r"  - id: (\w+)", text)
            shot = ids[k % len(ids)]
            block = re.search(rf"  - id: {shot}\n(?:    .*\n|      .*\n)*?    action: (.*)\n", text)
            old = block.group(1)
            new = f"{old.rstrip('.')} (take {k + 2})."
            cut_before = page.evaluate("() => window.storyboardRoom.cuts")
            t = time.perf_counter()
            film.write_text(text.replace(f"action: {old}\n", f"action: {new}\n", 1))
            sel = f"#shot-{shot}"
            page.wait_for_function(f"() => document.querySelector('{sel}').textContent.includes({json.dumps(new)})",
                                   timeout=60_000, polling=50)
            words.append(time.perf_counter() - t)
            page.wait_for_function(f"() => document.querySelector('{sel}').textContent.includes({json.dumps(new)})"
                                   f" && !document.querySelector('{sel} .waiting')", timeout=60_000, polling=50)
            cards.append(time.perf_counter() - t)
            page.wait_for_function(f"() => window.storyboardRoom.cuts > {cut_before}", timeout=120_000, polling=50)
            cuts.append(time.perf_counter() - t)
            while state()["busy"]:
                time.sleep(0.1)
        assert page.evaluate("() => window.notReloaded === true"), "the page reloaded"
        page.close()
        proc.send_signal(2)
        proc.wait(30)
        print(f"keeper: saving an edited action line -> the card shows the new words: "
              f"{', '.join(f'{x:.1f}' for x in words)}s (median {statistics.median(words):.1f}s)")
        print(f"keeper: -> the card shows the re-rendered shot's frames: {', '.join(f'{x:.1f}' for x in cards)}s "
              f"(median {statistics.median(cards):.1f}s; target < 10 s)")
        print(f"keeper: -> the player has the new cut: {', '.join(f'{x:.1f}' for x in cuts)}s "
              f"(median {statistics.median(cuts):.1f}s)")
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def big_page(browser, shots: int) -> None:
    import uvicorn

    from bench.review import seed, storyboard
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["STORYBOARD_CACHE"] = str(root / "cache")
        (root / ".storyboard").write_text("")
        path = root / "bench.yaml"
        path.write_text(storyboard(shots))
        from storyboard.pipeline import prepare
        from storyboard.serve.app import Hub, create_app
        from storyboard.serve.room import Room
        from storyboard.store.cache import Cache
        prep = prepare(path)
        cache = Cache()
        seed(prep, cache, 8)
        hub = Hub()
        room = Room(path, cache=cache, publish=hub.publish)
        room.token = "bench"
        room.prep = prep
        for run in ("first", "again"):
            t = time.perf_counter()
            room._page(prep, room.files_version())
            print(f"{shots} shots: the room builds its page ({run}) in {time.perf_counter() - t:.2f}s; "
                  f"{len(room.html) / 1e3:.0f} kB of HTML")
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(room, hub, "bench", {f"127.0.0.1:{port}"}), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        for run in ("cold", "warm"):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_function("() => window.storyboardRoom && window.storyboardRoom.ready")
            ready = time.perf_counter() - t
            page.wait_for_load_state("load")
            nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                " return [n.domContentLoadedEventEnd, n.loadEventEnd]; }")
            print(f"{shots} shots in chromium ({run}): DOMContentLoaded {nav[0] / 1000:.2f}s, load {nav[1] / 1000:.2f}s, "
                  f"the room's script ready {ready:.2f}s after navigation starts")
            if run == "warm":  # a live update: one shot's words changed, the page fetched and every card compared
                page.wait_for_function("() => window.storyboardRoom.events.readyState === 1")
                path.write_text(path.read_text().replace("does thing number 150.", "does thing number 150 again."))
                room._page(room._prepare(), room.files_version())
                t = time.perf_counter()
                room._say()
                page.wait_for_function("() => window.storyboardRoom.updates >= 1", polling=20)
                assert "number 150 again" in page.locator("#shot-s150").inner_text()
                print(f"{shots} shots: a live update swapped in {time.perf_counter() - t:.2f}s after the event")
            page.close()
        server.should_exit = True
        thread.join(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=3)
    ap.add_argument("--shots", type=int, default=300)
    ap.add_argument("--skip-keeper", action="store_true")
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        print("chromium: not installed (/usr/bin/chromium); `apt-get install chromium` to measure")
        return
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        if not args.skip_keeper:
            keeper(browser, args.edits)
        if not args.skip_page:
            big_page(browser, args.shots)
        browser.close()


if __name__ == "__main__":
    main()
