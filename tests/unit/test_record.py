"""The output folder's record: digests that change with everything an output is made from (its data,
its code, its templates and fonts, its libraries' versions), and files that must still be as written."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.exports import record


@dataclass(frozen=True)
class Shot:
    id: str
    clip: Path | None
    made: float = 0.0
    handle: object = field(default=None, compare=False)  # not part of what it is (a cache object, say)


def test_canon_is_plain_data_and_leaves_out_only_what_it_is_told():
    a = Shot("one", Path("/c/clip.mp4"), made=1.0, handle=object())
    b = Shot("one", Path("/c/clip.mp4"), made=2.0, handle=object())
    assert record.canon(a) == {"@": "Shot", "id": "one", "clip": "/c/clip.mp4", "made": 1.0}
    assert record.digest([a]) != record.digest([b])
    assert record.digest([a], skip=frozenset({"made"})) == record.digest([b], skip=frozenset({"made"}))
    assert record.digest({"x": [a], "y": {3}}) == record.digest({"y": {3}, "x": [a]})  # not the order of keys
    assert record.digest(Shot("one", None)) != record.digest(Shot("two", None))


def test_an_object_without_a_plain_form_never_matches_an_earlier_run():
    class Opaque:
        pass
    assert record.digest(Opaque()) != record.digest(Opaque())  # its repr names its address: made again, never missed


def test_the_code_digest_follows_sources_files_and_versions(tmp_path, monkeypatch):
    template = tmp_path / "page.j2"
    template.write_text("{{ a }}")
    first = record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",))
    assert record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",)) == first
    template.write_text("{{ a }}!")  # a template edited: seen at once (a long-lived `serve`)
    os.utime(template, ns=(1, 1))
    assert record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",)) != first
    assert record.code(("storyboard.exports.subtitles",), files=(str(template),), packages=("jinja2",)) != \
        record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",))  # other code
    import importlib.metadata
    now = record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",))
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "99.0")  # another release installed
    record._sources.cache_clear()
    assert record.code(("storyboard.exports.record",), files=(str(template),), packages=("jinja2",)) != now
    record._sources.cache_clear()


def test_an_output_is_unchanged_only_with_its_digest_and_its_files_as_written(tmp_path):
    page, still = tmp_path / "page.html", tmp_path / "still.jpg"
    page.write_text("<p>page</p>")
    still.write_bytes(b"jpeg")
    state: dict = {}
    assert not record.unchanged(state, "page", "d1", [page, still])  # never recorded
    record.record(state, "page", "d1", [page, still])
    record.save_state(tmp_path, state)
    state = record.read_state(tmp_path)
    assert record.unchanged(state, "page", "d1", [page, still])
    assert not record.unchanged(state, "page", "d2", [page, still])  # made from something else now
    assert not record.unchanged(state, "page", "d1", [page])  # names other files
    page.write_text("<p>mine</p>")  # edited by hand
    assert not record.unchanged(state, "page", "d1", [page, still])
    record.record(state, "page", "d1", [page, still])
    still.unlink()  # deleted
    assert not record.unchanged(state, "page", "d1", [page, still])
    (tmp_path / record.STATE).write_text("[not a record")
    assert record.read_state(tmp_path) == {}


def test_a_text_output_is_written_only_when_its_bytes_change(tmp_path):
    csv = tmp_path / "list.csv"
    record.write_if_changed(csv, "a,b\r\n1,2\r\n")
    st = csv.stat()
    record.write_if_changed(csv, "a,b\r\n1,2\r\n")  # CRLF rows read back as they are: the same, not written
    assert (csv.stat().st_ino, csv.stat().st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    record.write_if_changed(csv, "a,b\n1,2\n")
    assert csv.read_bytes() == b"a,b\n1,2\n"
