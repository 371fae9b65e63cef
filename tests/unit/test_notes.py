"""The review sidecar (NAME.review.yaml): written in the storyboard's order, read back the same, a
hand-made mistake placed at its line; notes and statuses become markers in the editor exports."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from storyboard import notes
from storyboard.errors import FormatError, UsageError
from storyboard.exports import editorial
from storyboard.stages.timeline import build


def test_sidecar_round_trip_in_storyboard_order(tmp_path):
    film = tmp_path / "film.yaml"
    assert notes.sidecar(film) == tmp_path / "film.review.yaml"
    r = notes.load(film)
    assert r.of("two") == notes.ShotReview("todo", ())
    r = r.with_note("two", "  too dark\n", "  Ana  Lee ", when=0).with_status("two", "retake")
    r = r.with_status("one", "approved").with_status("three", "todo")
    notes.save(r, film, ["one", "two", "three"])
    text = notes.sidecar(film).read_text()
    assert text.index("one:") < text.index("two:") and "three" not in text  # nothing to say about three
    assert "time: '1970-01-01T00:00:00Z'" in text and "author: Ana Lee" in text
    back = notes.load(film)
    assert back.shots == {"one": notes.ShotReview("approved"),
                          "two": notes.ShotReview("retake", (notes.Note("too dark", "Ana Lee", "1970-01-01T00:00:00Z"),))}
    assert back.select(["three", "two", "one"], "approved") == ["one"]
    assert notes.note_lines(back.of("two")) == ["review: retake", "Ana Lee: too dark"]


def test_a_hand_edited_sidecar_is_read_and_its_mistakes_placed(tmp_path):
    film = tmp_path / "film.yaml"
    notes.sidecar(film).write_text("shots:\n  one:\n    status: approved\n    notes: [just text]\n"
                                   "  two:\n    status: maybe\n")
    with pytest.raises(FormatError) as e:
        notes.load(film)
    (d,) = e.value.diagnostics
    assert d.line == 6 and "todo, approved, retake" in d.message and "maybe" in d.message
    notes.sidecar(film).write_text("shots:\n  one:\n    status: approved\n    notes: [just text]\n")
    assert notes.load(film).of("one").notes == (notes.Note("just text", "", ""),)


def test_empty_or_huge_notes_and_unknown_statuses_are_refused(tmp_path):
    r = notes.load(tmp_path / "f.yaml")
    with pytest.raises(UsageError, match="needs some text"):
        r.with_note("a", "   ", "me")
    with pytest.raises(UsageError, match="at most"):
        r.with_note("a", "x" * (notes.MAX_NOTE + 1), "me")
    with pytest.raises(UsageError, match="todo, approved, retake"):
        r.with_status("a", "done")


def test_notes_are_markers_in_the_timeline_the_edl_and_the_fcp_xml():
    tl = build([("a", 2.0, "cut", 0), ("b", 2.0, "cut", 0)], 24, 640, 360, {})
    clips = [editorial.ShotClip(f"media/00{i}_{s}.mp4", f"media/00{i}_{s}.wav", s.upper(),
                                {"take": 1}, notes=n)
             for i, (s, n) in enumerate([("a", ()), ("b", ("review: retake", "Ana: too dark"))], 1)]
    otl = editorial.build_otio(tl, "Notes", clips)
    marks = [(m.name, m.marked_range.start_time.value, m.color) for m in otl.tracks.markers]
    assert ("NOTE b: Ana: too dark", 48, otio.schema.MarkerColor.PURPLE) in marks
    assert ("NOTE b: review: retake", 48, otio.schema.MarkerColor.PURPLE) in marks
    files = editorial.exports(otl, 640, 360)
    assert "* LOC: 00:00:02:00 PURPLE  NOTE b: Ana: too dark" in files["final.edl"]
    assert "<name>NOTE b: Ana: too dark</name>" in files["final.xml"]
