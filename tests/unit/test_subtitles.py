"""final.srt and final.vtt say what the burnt-in line says, and nothing in a line is markup a player
obeys (issue 22, items 4 and 16)."""

from __future__ import annotations

from fractions import Fraction

from storyboard.exports import subtitles
from storyboard.stages.timeline import Cue, build


def cue(text: str, speaker: str = "Ana", mark: str = "") -> Cue:
    return Cue(Fraction(1), Fraction(2), speaker, text, mark=mark)


def test_vtt_escapes_ampersands_and_angle_brackets():
    doc = subtitles.vtt([cue("Fish & chips <b>now</b> -> 3 > 2"), cue("Hi.", speaker="R&D <Bot>")])
    assert "<v Ana>Fish &amp; chips &lt;b&gt;now&lt;/b&gt; -&gt; 3 &gt; 2" in doc
    assert "<v R&amp;D Bot>Hi." in doc
    assert "&amp;amp;" not in doc


def test_srt_passes_no_tags_to_a_player():
    doc = subtitles.srt([cue("<b>Run</b> <script>alert(1)</script>now {\\an8}up <font color=red>x</font>"),
                         cue("3 < 4 and 5 > 2, fish & chips")])
    assert "ANA: Run alert(1)now up x" in doc
    assert "<" not in doc.split("\n\n")[0] and "{\\" not in doc
    assert "ANA: 3 < 4 and 5 > 2, fish & chips" in doc  # a comparison is not a tag


def test_subtitles_keep_the_voice_over_mark_of_the_burnt_in_line():
    lines = {"a": [{"name": "Ana", "text": "I remember.", "start": 0.5, "end": 1.5, "mark": "V.O."}]}
    tl = build([("a", 3.0, "cut", 0)], 24, 320, 180, lines)
    assert "ANA (V.O.): I remember." in subtitles.srt(tl.cues)
    assert "<v Ana (V.O.)>I remember." in subtitles.vtt(tl.cues)
