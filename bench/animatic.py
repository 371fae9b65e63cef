"""Render the bundled examples with the offline animatic through the public API; print seconds of
film per second of wall time, and the CPU seconds it took (steadier than wall time on a shared
machine: the animatic renders two shots at a time, so 2 cores give at most 2 CPU-seconds a second).

    python bench/animatic.py            # a fresh cache each run: every shot is rendered

Then every shot is drawn again from an empty clip cache with the voiced lines kept (the pass after a
change that redraws everything): no voices are started.

Then an episode, the case the target is about: 60 shots of 5 s (five minutes) with a line of its own
in each, rendered from empty caches, voices and all (`--episode-shots N` sets its length, 0 skips it).
The bundled films are a few seconds each, so each one's voice start (about 0.5 s) weighs on them as
it never does on an episode.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def ffmpeg_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


THINGS = ["lamp", "ferry", "radio", "gate", "lighthouse", "engine", "rope", "letter", "bell", "truck", "boat"]
PLACES = ["pier", "north road", "harbour wall", "station", "island", "bridge", "square"]
STATES = ["out again", "still running", "gone quiet", "left open", "late tonight", "not ours", "moving"]


def episode_yaml(shots: int) -> str:
    """`shots` shots of 5 s in two places, two characters talking: a line of its own in every shot
    (nothing the line store could have kept; about half the film is speech), camera moves in turn,
    a dissolve every 8th."""
    moves = ["static", "pan left", "dolly in", "tracking", "zoom in", "handheld", "tilt up", "orbit"]
    out = ["version: 1", "title: Episode", "defaults: {size: 1280x720}", "characters:",
           "  mara: {name: Mara, description: a harbour pilot in a yellow oilskin, voice: low and dry}",
           "  tom: {name: Tom, description: an old keeper with a grey beard, voice: gravelly}",
           "locations:", "  pier: {description: a wet pier under lamps, time: night, weather: rain}",
           "  room: {description: the lamp room at the top of a lighthouse, time: night}", "shots:"]
    for i in range(shots):
        who, other = ("mara", "tom") if i % 2 == 0 else ("tom", "mara")
        line = f"The {THINGS[i % len(THINGS)]} by the {PLACES[i % len(PLACES)]} is {STATES[(i // 2) % len(STATES)]}."
        out += [f"  - id: e{i:03d}", "    duration: 5", f"    location: {'pier' if (i // 6) % 2 == 0 else 'room'}",
                f"    characters: [{who}, {other}]", f"    camera: {{framing: medium, move: {moves[i % len(moves)]}}}",
                f"    action: {who.title()} turns to {other.title()}.", f"    dialogue: [{{{who}: \"{line}\"}}]"]
        if i % 8 == 7 and i < shots - 1:
            out.append("    transition: dissolve 0.5s")
    return "\n".join(out) + "\n"


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--episode-shots", type=int, default=60)
    args = ap.parse_args()
    examples = [ROOT / "examples/keeper/keeper.yaml", ROOT / "examples/series/ep01.yaml", ROOT / "examples/series/ep02.yaml"]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYBOARD_CACHE"] = str(Path(tmp) / "cache")
        os.environ.pop("STORYBOARD_VOICE_CACHE", None)  # every line voiced, as on a first render
        import storyboard
        from storyboard.animatic.voices import JOE, VoiceProcess
        from storyboard.draw.fonts import Type
        from storyboard.store.cache import Cache
        t = time.perf_counter()
        Type(20).length("warm up")  # the fonts' character maps (Latin and CJK), read once per process
        fonts = time.perf_counter() - t
        t, c = time.perf_counter(), cpu()
        voices = VoiceProcess()  # what each render pays once: the voices' process and its model
        voices.speak("Warm up.", JOE, 1.0)
        voices.close()
        voice, voice_cpu = time.perf_counter() - t, cpu() - c
        print(f"fonts: {fonts:.2f}s once per process; the voices' process and model: {voice:.2f}s, "
              f"{voice_cpu:.2f} CPU-s once per render")
        print(f"load average {os.getloadavg()[0]:.2f} (wall time is shared with whatever else runs)")
        total_film = total_wall = total_cpu = 0.0
        encode = ffmpeg_cpu()
        for path in examples:
            prep = storyboard.compile(path, backend="animatic")
            plan = storyboard.plan(prep, cache=Cache())
            film = sum(j.shot.duration for j in plan.to_render)
            t, c = time.perf_counter(), cpu()
            storyboard.render_shots(prep, plan, cache=Cache())
            wall, used = time.perf_counter() - t, cpu() - c
            total_film += film
            total_wall += wall
            total_cpu += used
            print(f"{path.name:12s} {film:5.1f}s of film in {wall:5.2f}s: {film / wall:4.1f}x realtime, "
                  f"{used / film:4.2f} CPU-s per film second ({prep.loaded.storyboard.defaults.size})")
        drawn = total_cpu - len(examples) * voice_cpu  # the films' own work, each render's voice start apart
        print(f"all shots    {total_film:5.1f}s of film in {total_wall:5.2f}s: {total_film / total_wall:4.1f}x realtime; "
              f"{drawn / total_film:.3f} CPU-s per film second, so {2 * total_film / drawn:.1f}x on 2 idle cores "
              f"({2 * total_film / total_cpu:.1f}x with each of the {len(examples)} renders' voice start, which a "
              "20-minute episode pays once)")
        encode = ffmpeg_cpu() - encode
        print(f"of which child processes (ffmpeg, the voices) {encode / total_film:.3f} and this process "
              f"{(total_cpu - encode) / total_film:.3f} CPU-s per film second; load average {os.getloadavg()[0]:.2f}")
        # every shot drawn again with its lines already said (the line store kept, the clips not): the
        # pass after a change that redraws everything (a look, a style, every action reworded)
        os.environ["STORYBOARD_VOICE_CACHE"] = str(Path(tmp) / "cache" / "voices" / "lines")
        again_film = again_wall = again_cpu = 0.0
        for path in examples:
            prep = storyboard.compile(path, backend="animatic")
            plan = storyboard.plan(prep, cache=Cache(Path(tmp) / "redrawn"))
            t, c = time.perf_counter(), cpu()
            storyboard.render_shots(prep, plan, cache=Cache(Path(tmp) / "redrawn"))
            again_wall += time.perf_counter() - t
            again_cpu += cpu() - c
            again_film += sum(j.shot.duration for j in plan.to_render)
        print(f"drawn again  {again_film:5.1f}s of film in {again_wall:5.2f}s: {again_film / again_wall:4.1f}x realtime, "
              f"{again_cpu / again_film:.3f} CPU-s per film second (the lines read back from the line store)")
        if args.episode_shots:
            os.environ.pop("STORYBOARD_VOICE_CACHE", None)  # every line voiced, in a cache of its own
            os.environ["STORYBOARD_CACHE"] = str(Path(tmp) / "episode-cache")
            film_file = Path(tmp) / "episode.yaml"
            film_file.write_text(episode_yaml(args.episode_shots))
            t, c = time.perf_counter(), cpu()
            prep = storyboard.compile(film_file, backend="animatic")
            plan = storyboard.plan(prep, cache=Cache())
            storyboard.render_shots(prep, plan, cache=Cache())
            wall, used = time.perf_counter() - t, cpu() - c
            film = sum(j.shot.duration for j in plan.to_render)
            speech = sum(len(s.dialogue) for s in prep.shots)
            print(f"an episode  {film:5.0f}s of film ({args.episode_shots} shots, {speech} lines) in {wall:5.2f}s: "
                  f"{film / wall:4.1f}x realtime, first render with the voices started once, "
                  f"{used / film:.3f} CPU-s per film second; load average {os.getloadavg()[0]:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: {peak:.0f} MB in python, {child:.0f} MB in the largest child")


if __name__ == "__main__":
    sys.exit(main())
