"""The cut as data: frames, pieces, commands, cues and the editor timeline, with no process run."""

from __future__ import annotations

from fractions import Fraction

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
    """Under a dissolve the next shot's first line starts before the last line of the shot before ends:
    the earlier cue ends where the later starts (cue 1 used to end at 4.377, cue 2 start at 4.300)."""
    lines = {"a": [{"name": "Ana", "text": "Long.", "start": 0.5, "end": 4.377}],
             "b": [{"name": "Ben", "text": "Next.", "start": 0.3, "end": 1.5}]}
    tl = build([("a", 5.0, "dissolve", 1), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
    (a, b) = tl.cues
    assert a.end == b.start == Fraction(43, 10)
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
