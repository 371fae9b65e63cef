"""Multi-shot groups (issue 25): requests and price with and without grouping, and whether the split
of a group's clip is frame-exact.

    python bench/multishot.py [--model kling-4] [--no-render]

Part 1 plans the bundled storyboards (series ep01 and ep02, keeper) on fal with `--model` (default:
kling-4 when the table has it, else kling-3-pro) at 1280x720 (or the model's first size), once with
`multi_shot: off` and once with `multi_shot: scene`, and prints requests, seconds asked and price.
Nothing is sent: planning needs no key. Part 2 renders a four-shot scene with the animatic standing
in for the model (offline), and prints each shot's frames in media/ against its asked length at the
film's rate, and the group's split frames from the manifest."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storyboard import catalog  # noqa: E402
from storyboard.model.loaded import Loaded  # noqa: E402
from storyboard.pipeline import make_plan, prepare, render  # noqa: E402
from storyboard.stages.loader import load  # noqa: E402
from storyboard.stages.timeline import frames  # noqa: E402
from storyboard.store.cache import Cache  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def with_defaults(loaded: Loaded, **changes) -> Loaded:
    sb = loaded.storyboard
    return Loaded(sb.model_copy(update={"defaults": sb.defaults.model_copy(update=changes)}), loaded.path,
                  loaded.root, loaded.positions)


def plan_figures(model: str) -> None:
    caps = catalog.get("fal").models[model]
    size = "1280x720" if "1280x720" in caps.sizes else caps.sizes[0]
    print(f"{model} on fal at {size}: multi_shot = {caps.multi_shot}")
    print(f"{'storyboard':<22}{'shots':>6}{'requests off':>14}{'price off':>11}{'requests scene':>16}{'price scene':>13}")
    scene = Path(tempfile.mkdtemp()) / "scene.yaml"
    scene.write_text(SCENE.replace("MODEL", model).replace("SIZE", size))
    for name in ("series/ep01.yaml", "series/ep02.yaml", "keeper/keeper.yaml", str(scene)):
        row = []
        for mode in ("off", "scene"):
            loaded = with_defaults(load(EXAMPLES / name), model=model, size=size, multi_shot=mode)
            with tempfile.TemporaryDirectory() as tmp:
                p = make_plan(prepare(loaded, "fal"), Cache(Path(tmp)))
            row.append((len(p.to_render), p.total, len(p.jobs)))
        (n_off, cost_off, shots), (n_scene, cost_scene, _) = row
        name = "the split's scene" if name == str(scene) else name
        print(f"{name:<22}{shots:>6}{n_off:>14}{'$' + format(cost_off, '.2f'):>11}{n_scene:>16}"
              f"{'$' + format(cost_scene, '.2f'):>13}")


SCENE = """version: 1
defaults: {model: MODEL, size: SIZE, fps: 24, multi_shot: scene}
characters: {mara: {description: a tall woman in a green coat}}
locations: {kitchen: {description: a narrow kitchen}, hall: {description: a dark hall}}
shots:
  - {id: k1, duration: 4, location: kitchen, characters: [mara], action: Mara fills the kettle., dialogue: [{mara: Not tonight.}]}
  - {id: k2, duration: 2.5, location: kitchen, characters: [mara], action: She turns.}
  - {id: k3, duration: 3.25, location: kitchen, characters: [mara], action: She sits down.}
  - {id: h1, duration: 3, location: hall, characters: [mara], action: She walks out.}
"""


def split_figures(model: str) -> None:
    from storyboard.media.probe import decodes
    import json
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".storyboard").write_text("")
        path = root / "scene.yaml"
        sizes = catalog.get("fal").models[model].sizes  # the smallest the model makes: the quickest animatic
        size = min(sizes, key=lambda s: int(s.split("x")[0]) * int(s.split("x")[1]))
        path.write_text(SCENE.replace("MODEL", model).replace("SIZE", size))
        os.environ["STORYBOARD_CACHE"] = str(root / "cache")
        prep = prepare(path, "animatic")
        render(prep, root / "out", cache=Cache(root / "cache"))  # figures are read from out/
        man = json.loads((root / "out" / "manifest.json").read_text())
        print(f"\nsplit of an animatic group standing in for {model} (24 fps):")
        print(f"{'shot':<6}{'asked s':>8}{'asked frames':>14}{'media/ frames':>15}{'exact':>7}  group frames")
        for shot, row in zip(prep.loaded.storyboard.shots, man["shots"]):
            want = frames(shot.duration, 24)
            got = decodes(next((root / "out" / "media").glob(f"*_{shot.id}_t*.mp4")))
            g = row["group"]
            where = (f"[{g['from_frame']}, {g['to_frame']}) of {g['clip_frames']}, spread {g['spread_frames']}"
                     if g else "alone")
            print(f"{shot.id:<6}{shot.duration:>8g}{want:>14}{got:>15}{'yes' if got == want else 'NO':>7}  {where}")
        total = decodes(root / "out" / "final.mp4")
        print(f"final.mp4: {total} frames; sum asked {sum(frames(s.duration, 24) for s in prep.loaded.storyboard.shots)}")


# Kling 4 as the providers branch (issue 24) lists it, read 2026-12-06, with the multi-shot limits this
# issue assumes (30 s as the issue says; 6 shots and 3 s a shot as Kling 3, not yet confirmed on a page):
# used only when the shipped table has no kling-4 row yet. Planning needs no key and sends nothing.
KLING4 = """[backends.fal.models."kling-4"]
durations = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]
sizes = ["1280x720", "720x1280", "1920x1080", "1080x1920"]
image_reference = true
makes_sound = true
prompt_max_chars = 2500
price = { "1280x720" = 0.157, "720x1280" = 0.157, "1920x1080" = 0.235, "1080x1920" = 0.235 }
multi_shot = { max_shots = 6, max_seconds = 30, shot_durations = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27] }
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    if "kling-4" not in catalog.get("fal").models:
        cfg = Path(tempfile.mkdtemp()) / "config.toml"
        cfg.write_text(KLING4)
        os.environ["STORYBOARD_CONFIG"] = str(cfg)
        print("(kling-4 is not in the shipped table yet: its row from the providers branch is used)")
    models = catalog.get("fal").models
    ap.add_argument("--model", default="kling-4" if "kling-4" in models else "kling-3-pro")
    ap.add_argument("--no-render", action="store_true")
    args = ap.parse_args()
    plan_figures(args.model)
    if not args.no_render:
        split_figures(args.model)


if __name__ == "__main__":
    main()
