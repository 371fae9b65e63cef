"""The hand-off after a cut of N clips of 8 s at 1280x720 (test pattern + tone, house format): print the
wall time of each step (linking the pictures, the shots' WAVs in one ffmpeg and in one per shot, the
music bed, the OTIO / EDL / FCP XML exports).

    python bench/handoff.py [--clips 20]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storyboard.exports import editorial, handoff  # noqa: E402
from storyboard.media import stems  # noqa: E402
from tests.media import make_clip, make_tone  # noqa: E402
from storyboard.stages.timeline import build  # noqa: E402

FPS, W, H, SECS = 24, 1280, 720, 8


def timed(label: str, fn) -> None:
    t = time.perf_counter()
    fn()
    print(f"{label:48s} {time.perf_counter() - t:6.2f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    n = ap.parse_args().clips
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cache = d / "cache"
        cache.mkdir()
        sources = []
        for i in range(n):
            src = cache / f"clip{i}.mp4"
            make_clip(src, SECS, f"{W}x{H}", FPS, tone=300 + 20 * i)
            sources.append(src)
        music = d / "theme.wav"
        make_tone(music, 30, 220)
        rows = [(f"s{i}", SECS, "dissolve" if i % 2 else "fade", 1.0) for i in range(n)]
        tl = build(rows, FPS, W, H)
        out = d / "out"
        named = [handoff.shot_files(i + 1, f"s{i}", 1) for i in range(n)]
        print(f"{n} clips of {SECS} s at {W}x{H}, cut of {tl.total_frames} frames")
        timed("link the pictures into media/", lambda: [handoff.place(s, out / f.video) for s, f in zip(sources, named)])
        items = [(s, sp.length, out / f.sound) for s, sp, f in zip(sources, tl.spans, named)]
        timed("shots' WAVs, one ffmpeg for all", lambda: stems.write_shot_sounds(items, FPS))
        timed("shots' WAVs, one ffmpeg per shot", lambda: [stems.write_shot_sounds([it], FPS) for it in items])
        timed("music bed WAV", lambda: stems.write_music(music, out / "media/music_theme.wav", tl.total_frames, FPS))
        clips = [editorial.ShotClip(f.video, f.sound, f"S{i}", {"prompt": "p"}) for i, f in enumerate(named)]

        def exports():
            otl = editorial.build_otio(tl, "bench", clips, editorial.Bed("media/music_theme.wav"))
            for name, text in editorial.exports(otl, W, H).items():
                (out / name).write_text(text)
        timed("timeline.otio, final.edl, final.xml", exports)


if __name__ == "__main__":
    main()
