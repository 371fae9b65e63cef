"""What the identity check costs per shot, and whether it slows a download running beside it.

    python bench/identity.py [--seconds 8] [--repeat 3]

Clips of 1280x720 at 30 fps, made from real photos (scikit-image's astronaut; Grace Hopper from
tests/faces; both side by side for a two-shot; scikit-image's coffee for no face), encoded as a provider
would (H.264, a key frame every 2 s; and one with a single key frame). Prints the CPU seconds (this process,
every thread) to find and describe the faces of one clip, after the models are loaded once (printed apart),
against the target of 1.5 CPU-s a shot. Then a 200 MB download over loopback, alone and while a
low-priority scoring process (as `render` runs it) scores clips beside it."""

from __future__ import annotations

import argparse
import http.server
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 1.5


def photos(d: Path) -> dict[str, Path]:
    from PIL import Image
    from skimage import data
    a = Image.fromarray(data.astronaut())
    h = Image.open(Path(__file__).resolve().parent.parent / "tests" / "faces" / "grace_hopper.jpg").convert("RGB")
    two = Image.new("RGB", (1280, 720), (40, 50, 60))
    two.paste(a.resize((620, 620)), (10, 50))
    two.paste(h.resize((530, 620)), (700, 50))
    out = {"one face": a, "another face": h, "two faces": two, "no face": Image.fromarray(data.coffee())}
    paths = {}
    for k, im in out.items():
        paths[k] = d / f"{k.replace(' ', '_')}.png"
        im.save(paths[k])
    return paths


def clips(d: Path, seconds: float) -> dict[str, Path]:
    from tests.media import make_still_clip
    out = {}
    for name, still in photos(d).items():
        out[name] = make_still_clip(d / f"{still.stem}.mp4", still, seconds, "1280x720")
    # one key frame in the whole clip: sampling must decode forward instead of seeking
    import ffmpeg as ff

    from storyboard.media.ffmpeg import compile, run, timeout_for
    src = out["two faces"]
    one_key = d / "two_faces_one_key.mp4"
    run(compile(ff.output(ff.input(str(src)), str(one_key), vcodec="libx264", preset="ultrafast", crf=30, g=10000,
                          acodec="copy"), "bench clip", timeout_for(seconds, "encode")))
    out["two faces, one key frame"] = one_key
    return out


def cpu(fn, *args):
    t = time.process_time()
    got = fn(*args)
    return time.process_time() - t, got


def download(url: str) -> float:
    t = time.monotonic()
    with urllib.request.urlopen(url) as r:
        while r.read(1 << 20):
            pass
    return time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from storyboard.identity import faces
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        made = clips(d, args.seconds)
        load, _ = cpu(faces.models)
        print(f"models loaded once per process: {load:.2f} CPU-s")
        print(f"{'clip (1280x720, ' + format(args.seconds, 'g') + ' s)':34} {'samples':>7} {'faces':>5} {'described':>9} "
              f"{'CPU-s (best of ' + str(args.repeat) + ')':>18}")
        worst = 0.0
        for name, path in made.items():
            runs = [cpu(faces.clip_record, path) for _ in range(args.repeat)]
            best, rec = min(runs, key=lambda r: r[0])
            found = sum(len(f["faces"]) for f in rec["frames"])
            described = sum(1 for f in rec["frames"] for x in f["faces"] if x["emb"])
            worst = max(worst, best)
            print(f"{name:34} {len(rec['frames']):>7} {found:>5} {described:>9} {best:>18.2f}")
        print(f"worst clip: {worst:.2f} CPU-s a shot (target {TARGET}); {os.cpu_count()} cores")

        # a download beside the scoring process
        blob = d / "blob.bin"
        blob.write_bytes(os.urandom(200 << 20))
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(d))  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/blob.bin"
        download(url)  # warm: the file in the page cache, the server's threads started
        alone = min(download(url) for _ in range(3))
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from storyboard.identity import _score_file, _worker_start
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start) as pool:
            pool.submit(_score_file, str(made["one face"])).result()  # started and loaded, as mid-render
            futs = [pool.submit(_score_file, str(made["two faces"])) for _ in range(12)]
            time.sleep(0.3)
            beside = min(download(url) for _ in range(3))
            busy = not all(f.done() for f in futs)
            for f in futs:
                f.cancel()
        server.shutdown()
        print(f"200 MB download over loopback: {alone:.2f} s alone, {beside:.2f} s beside the scoring process "
              f"({'still scoring' if busy else 'NOTE: scoring had finished'}); ratio {beside / alone:.2f}")


if __name__ == "__main__":
    main()
