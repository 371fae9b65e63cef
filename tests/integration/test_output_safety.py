"""`review` and `boards` write only into folders that are theirs, delete only what they wrote and never
write through a symbolic link to another folder (issue 22, item 1). Nothing is rendered: a storyboard
never rendered gets drawn panels, which is quick."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.cli import main

FILM = """
version: 1
title: Safe Film
characters:
  ana: {name: Ana, description: a woman}
locations:
  room: {description: a room, time: night}
shots:
  - id: one
    duration: 2
    location: room
    characters: [ana]
    action: ACTION
"""


def film(project: Path, action: str = "Ana waits.") -> Path:
    path = project / "film.yaml"
    path.write_text(FILM.replace("ACTION", action))
    return path


@pytest.fixture
def no_render(monkeypatch):
    from storyboard.animatic.backend import AnimaticBackend
    monkeypatch.setattr(AnimaticBackend, "render", lambda self, req: pytest.fail("rendered a shot"))


def test_review_refuses_a_folder_of_someone_elses_files(project, no_render, capsys):
    out = project / "F"
    (out / "review").mkdir(parents=True)
    (out / "review" / "holiday.jpg").write_bytes(b"my holiday")
    (out / "review.html").write_text("my page")
    assert main(["review", str(film(project)), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "review" / "holiday.jpg").read_bytes() == b"my holiday"
    assert (out / "review.html").read_text() == "my page"
    assert sorted(p.name for p in out.rglob("*")) == ["holiday.jpg", "review", "review.html"]  # not even a lock


def test_review_with_force_keeps_files_it_did_not_write(project, no_render):
    out = project / "F"
    (out / "review").mkdir(parents=True)
    (out / "review" / "holiday.jpg").write_bytes(b"my holiday")
    assert main(["review", str(film(project)), "--out", str(out), "--force"]) == 0
    assert (out / "review" / "holiday.jpg").read_bytes() == b"my holiday"
    assert "review/panel-" in (out / "review.html").read_text()


def test_review_deletes_only_what_it_wrote(project, no_render):
    out = project / "F"
    path = film(project)
    assert main(["review", str(path), "--out", str(out)]) == 0
    first = {p.name for p in (out / "review").iterdir() if not p.name.startswith(".")}
    assert len(first) == 1 and next(iter(first)).startswith("panel-")
    (out / "review" / "holiday.jpg").write_bytes(b"my holiday")  # dropped into a folder of ours
    film(project, "Ana leaves.")  # a new panel: the old one is no longer needed
    assert main(["review", str(path), "--out", str(out)]) == 2  # someone else's file in review/: refused
    assert main(["review", str(path), "--out", str(out), "--force"]) == 0
    now = {p.name for p in (out / "review").iterdir() if not p.name.startswith(".")}
    assert "holiday.jpg" in now and not first & now and len(now) == 2
    assert (out / "review" / "holiday.jpg").read_bytes() == b"my holiday"
    marked = json.loads((out / "review" / ".storyboard-out").read_text())["files"]
    assert marked == sorted(now - {"holiday.jpg"})


def test_review_never_follows_a_symlinked_review_folder(project, no_render, capsys):
    elsewhere = project / "photos"
    elsewhere.mkdir()
    (elsewhere / "holiday.jpg").write_bytes(b"my holiday")
    path = film(project)
    out = project / "F"
    assert main(["review", str(path), "--out", str(out)]) == 0  # a folder of ours...
    for p in (out / "review").iterdir():
        p.unlink()
    (out / "review").rmdir()
    (out / "review").symlink_to(elsewhere, target_is_directory=True)  # ...whose review/ became a link
    capsys.readouterr()
    for force in ([], ["--force"]):
        assert main(["review", str(path), "--out", str(out), *force]) == 2
        assert "symbolic link" in capsys.readouterr().err
        assert [p.name for p in elsewhere.iterdir()] == ["holiday.jpg"]


def test_boards_never_overwrite_a_users_boards_or_shot_list(project, no_render, capsys):
    out = project / "F"
    out.mkdir()
    (out / "boards.pdf").write_bytes(b"my boards")
    (out / "shotlist.csv").write_bytes(b"my,list\r\n")
    path = film(project)
    assert main(["boards", str(path), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "boards.pdf").read_bytes() == b"my boards" and (out / "shotlist.csv").read_bytes() == b"my,list\r\n"
    assert main(["boards", str(path), "--out", str(out), "--force"]) == 0
    assert (out / "boards.pdf").read_bytes().startswith(b"%PDF")
    assert main(["boards", str(path), "--out", str(out)]) == 0  # now the folder is ours


def test_review_and_boards_write_into_a_rendered_folder(project):
    path = film(project)
    assert main(["render", str(path)]) == 0
    assert main(["review", str(path)]) == 0
    assert main(["boards", str(path)]) == 0


def test_render_never_writes_through_a_symlinked_media_folder(project, capsys):
    elsewhere = project / "disk"
    elsewhere.mkdir()
    out = project / "film"
    out.mkdir()
    (out / "media").symlink_to(elsewhere, target_is_directory=True)
    assert main(["render", str(film(project)), "--force"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == [] and not (out / "final.mp4").exists()


def test_a_full_out_disk_names_the_out_folder_and_leaves_no_part_file(project, monkeypatch, capsys):
    """The out folder is on another disk (no hard link from the cache) and it fills up while a clip is
    copied: the message names the file in --out, not the cache's, and no .part is left (item 4)."""
    import errno
    import os

    from storyboard.store.cache import Cache
    path = film(project)
    assert main(["render", str(path)]) == 0
    out = project / "elsewhere"

    def no_link(src, dst, *a, **k):
        raise OSError(errno.EXDEV, "Invalid cross-device link", src, dst)

    def fills_up(out_fd, in_fd, offset, count):
        os.write(out_fd, b"\0" * 1000)  # some of it landed
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(os, "sendfile", fills_up)
    capsys.readouterr()
    assert main(["review", str(path), "--out", str(out)]) == 3
    said = capsys.readouterr().err
    assert "No space left on device" in said and str(out) in said and str(Cache().root) not in said
    assert [p.name for p in out.rglob("*") if ".part" in p.name] == []


@pytest.mark.parametrize("command", ["render", "review", "boards"])
def test_out_naming_a_file_is_a_usage_error(project, capsys, command):
    (project / "notes.txt").write_text("mine")
    assert main([command, str(film(project)), "--out", str(project / "notes.txt")]) == 2
    assert "is a file" in capsys.readouterr().err and (project / "notes.txt").read_text() == "mine"


def test_out_inside_a_file_is_a_usage_error(project, capsys):
    (project / "notes.txt").write_text("mine")
    two = project / "two.yaml"
    two.write_text(FILM.replace("ACTION", "Ana sits."))
    assert main(["render", str(film(project)), str(two), "--out", str(project / "notes.txt")]) == 2
    assert "notes.txt is a file" in capsys.readouterr().err


def test_review_sweeps_what_a_killed_run_left_half_written_in_review(project, no_render):
    out = project / "F"
    path = film(project)
    assert main(["review", str(path), "--out", str(out)]) == 0
    from storyboard.store.files import HOST_TAG
    left = out / "review" / f".001_one_t1.{HOST_TAG}-999999999.part.mp4"  # a dead process's
    left.write_bytes(b"half")
    assert main(["review", str(path), "--out", str(out)]) == 0
    assert not left.exists()
