"""Pinning a take edits the file that defines the shot and nothing else in it: every other byte
(comments, key order, quoting, flow mappings, anchors, a bible include) stays, and unpinning gives
the original bytes back."""

from __future__ import annotations

import hashlib

import pytest

from storyboard.errors import UsageError
from storyboard.pinning import Changed, pin, set_take
from storyboard.stages.loader import load

BIBLE = """\
# the series bible: never touched by a pin
characters:
  ana: {name: Ana, description: "a woman, 30"}   # flow, quoted
locations:
  room: &room_base
    description: 'a room'
    time: night
"""

FILM = """\
version: 1   # format version
title: "Pins: a test"
include: [bible.yaml]
defaults: {fps: 24, size: 1280x720}

shots:
  # the opening
  - id: one        # first shot
    duration: 2
    location: room
    characters: [ana]
    action: "Ana waits, \\"quietly\\"."
    dialogue:
      - ana: 'It''s late.'
  - {id: two, duration: 2, location: room, action: 'Ana turns.'}   # a flow mapping
  - id: three
    take: 1 # pinned by hand
    duration: 1.5
    camera: &cam {framing: wide, move: static}
    action: >
      Ana sweeps
      the floor.
  - id: four
    duration: 1
    camera: *cam
    action: Ana leaves.
"""


@pytest.fixture
def film(tmp_path):
    (tmp_path / ".storyboard").write_text("")
    (tmp_path / "bible.yaml").write_text(BIBLE)
    path = tmp_path / "film.yaml"
    path.write_bytes(FILM.encode())
    return path


def test_pin_inserts_one_line_after_the_id_and_keeps_every_other_byte(film):
    bible = (film.parent / "bible.yaml").read_bytes()
    written = pin(load(film), "one", 2)
    assert written == film
    after = film.read_text()
    expected = FILM.replace("  - id: one        # first shot\n", "  - id: one        # first shot\n    take: 2\n")
    assert after.encode() == expected.encode()
    assert (film.parent / "bible.yaml").read_bytes() == bible  # the include is never written
    assert load(film).storyboard.shots[0].take == 2
    pin(load(film), "one", None)  # unpinning removes the line: the original bytes
    assert film.read_bytes() == FILM.encode()


def test_a_flow_mapping_gets_the_take_inside_its_braces(film):
    pin(load(film), "two", 3)
    expected = FILM.replace("{id: two, duration", "{id: two, take: 3, duration")
    assert film.read_text() == expected
    assert load(film).storyboard.shots[1].take == 3
    pin(load(film), "two", None)
    assert film.read_bytes() == FILM.encode()


def test_an_existing_pin_changes_only_its_number_and_keeps_its_comment(film):
    pin(load(film), "three", 4)
    assert film.read_text() == FILM.replace("    take: 1 # pinned by hand", "    take: 4 # pinned by hand")
    pin(load(film), "three", None)
    assert film.read_text() == FILM.replace("    take: 1 # pinned by hand\n", "")
    assert load(film).storyboard.shots[3].camera.framing == "wide"  # the anchor still resolves


def test_the_shot_using_an_alias_is_pinned_without_expanding_it(film):
    pin(load(film), "four", 2)
    assert film.read_text() == FILM.replace("  - id: four\n", "  - id: four\n    take: 2\n")
    assert "*cam" in film.read_text() and "&cam" in film.read_text()


def test_a_file_changed_since_it_was_read_is_not_written(film):
    seen = hashlib.sha256(film.read_bytes()).hexdigest()
    film.write_text(FILM.replace("Ana leaves.", "Ana runs."))
    with pytest.raises(Changed, match="changed on disk"):
        pin(load(film), "one", 2, expect=seen)
    assert film.read_text() == FILM.replace("Ana leaves.", "Ana runs.")


def test_what_cannot_be_edited_in_place_is_refused_not_reformatted():
    odd = "title:    spaced\nshots:\n  -   id: a\n      take: 2\n  - take: 3\n    id: b\n  - id: c\n"
    assert set_take(odd, "a", 5) == odd.replace("take: 2", "take: 5")
    # `- take: 3` shares the dash line: no line to remove, so ruamel's round-trip dump is tried, and
    # refused, since it would also rewrite `title:    spaced`; nothing is written
    with pytest.raises(UsageError, match="by hand"):
        set_take(odd, "b", None)
    # where the dump changes only the shot's own lines, it is taken
    plain = "shots:\n  - id: a\n  - take: 3\n    id: b\n  - id: c\n"
    assert set_take(plain, "b", None) == "shots:\n  - id: a\n  - id: b\n  - id: c\n"
    with pytest.raises(UsageError, match="defines no shot 'd'"):
        set_take(odd, "d", 1)
    with pytest.raises(UsageError, match="a number from 1"):
        set_take(odd, "a", 0)


def test_windows_line_endings_and_no_final_newline_stay():
    text = "shots:\r\n  - id: a\r\n    action: x\r\n  - id: b"
    out = set_take(text, "a", 2)
    assert out == "shots:\r\n  - id: a\r\n    take: 2\r\n    action: x\r\n  - id: b"
    assert set_take(text, "b", 2) == text + "\r\n    take: 2\r\n"
