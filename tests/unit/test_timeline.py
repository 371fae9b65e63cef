"""The cut as data: frames, pieces, commands, cues and the editor timeline, with no process run."""

from __future__ import annotations

from fractions import Fraction

from storyboard.exports import subtitles
from storyboard.media import assemble
from storyboard.timeline import build

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


def test_commands_are_data_and_keep_user_text_out():
    tl = build([("a", 2.0, "fade", 1), ("b", 2.0, "cut", 0)], FPS, 320, 180)
    from pathlib import Path
    argv = assemble.audio_mix_cmd(tl, [Path("/x/a.mp4"), Path("/x/b.mp4")], Path("/x/mix.wav"), None)
    graph = argv[argv.index("-filter_complex") + 1]
    assert "afade=t=out:st=1.500000:d=0.500000" in graph and "adelay=delays=96000S" in graph
    assert argv.count("-protocol_whitelist") == 2


def test_subtitles_are_timed_in_the_cut_across_a_dissolve():
    lines = {"a": [{"name": "Ana", "text": "First.", "start": 0.5, "end": 1.5}],
             "b": [{"name": "Ben", "text": "Second --> line.", "start": 0.25, "end": 1.0}]}
    tl = build([("a", 3.0, "dissolve", 1), ("b", 3.0, "cut", 0)], FPS, 320, 180, lines)
    assert [(c.start, c.end) for c in tl.cues] == [(Fraction(1, 2), Fraction(3, 2)), (Fraction(9, 4), Fraction(3))]
    srt = subtitles.srt(tl.cues)
    assert "2\n00:00:02,250 --> 00:00:03,000\nBEN: Second -> line." in srt
    assert subtitles.vtt(tl.cues).startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\n<v Ana>First.")
