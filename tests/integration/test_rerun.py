"""A re-run whose inputs are unchanged rewrites nothing; a change rewrites what it shapes, and a
deleted or hand-edited output is made again."""

from __future__ import annotations

import os

from storyboard import notes
from storyboard.cli import main
from tests.conftest import read_manifest

FILM = """
version: 1
defaults: {size: 320x180}
characters: {ana: {name: Ana, description: a woman}}
shots:
  - {id: one, duration: 1.5, characters: [ana], dialogue: [{ana: Hello.}], transition: dissolve 0.5s}
  - {id: two, duration: 1.5, characters: [ana]}
  - {id: three, duration: 1, characters: [ana]}
"""
EDITORIAL = {"timeline.otio", "final.edl", "final.xml"}
PAGES = {"review.html", "boards.pdf", "shotlist.csv"}


def signs(out):
    """Inode and modification time of every file under the output folder, by its path there."""
    return {str(p.relative_to(out)): (os.stat(p).st_ino, os.stat(p).st_mtime_ns) for p in out.rglob("*") if p.is_file()}


def changed(before, after):
    """The files written (or made, or deleted) between two looks, less the record of what shaped them."""
    return {f for f in set(before) | set(after) if before.get(f) != after.get(f)} - {".storyboard-cut.json"}


def rendered(project, capsys):
    film = project / "film.yaml"
    film.write_text(FILM)
    assert main(["render", str(film)]) == 0
    capsys.readouterr()
    return film, project / "film"


def test_an_unchanged_rerun_touches_no_file_and_a_new_level_makes_only_the_cut(project, capsys):
    film, out = rendered(project, capsys)
    first = signs(out)
    assert {"final.mp4", "manifest.json", "review.html", "boards.pdf", "shotlist.csv", "final.srt", "timeline.otio",
            ".storyboard-out", "review/.storyboard-out"} <= set(first) and any(f.startswith("media/") for f in first)
    assert main(["render", str(film)]) == 0
    again = signs(out)
    # the manifest records the run, and this one found every clip in the cache; not one other file is written
    assert changed(first, again) == {"manifest.json"}
    assert [s["status"] for s in read_manifest(out)["shots"]] == ["cached"] * 3
    assert "cut: the cut is unchanged" in capsys.readouterr().err
    assert main(["render", str(film)]) == 0
    assert signs(out) == again  # every file: the same inode, the same time
    sound = read_manifest(out)["sound"]
    assert sound["on_target"] and abs(sound["loudness_lufs"] - -14) <= 0.5  # the figures are kept
    assert main(["render", str(film), "--loudness", "-16"]) == 0  # a new level: a new final.mp4 (and its figures)
    assert changed(again, signs(out)) == {"final.mp4", "manifest.json"}
    (out / "final.mp4").write_bytes(b"not a film")  # a file not as we wrote it is made again
    assert main(["render", str(film), "--loudness", "-16"]) == 0
    assert (out / "final.mp4").stat().st_size > 1000


def test_a_note_or_an_approval_from_the_review_room_makes_again_what_shows_it(project, capsys):
    film, out = rendered(project, capsys)
    assert main(["render", str(film)]) == 0
    before = signs(out)
    reviews = notes.load(film).with_note("two", "too dark", "Dana").with_status("three", "approved")
    notes.save(reviews, film, ["one", "two", "three"])
    assert main(["render", str(film)]) == 0
    # the boards, the shot list and the editor's markers say it (the page is made from the same sheet); the
    # cut and its media do not
    now = changed(before, signs(out))
    assert {"boards.pdf", "shotlist.csv"} | EDITORIAL <= now <= PAGES | EDITORIAL
    assert "too dark" in (out / "final.edl").read_text() and "Dana: too dark" in (out / "shotlist.csv").read_text()
    assert "approved" in (out / "shotlist.csv").read_text()


def test_a_pinned_take_makes_everything_again(project, capsys):
    film, out = rendered(project, capsys)
    assert main(["render", str(film), "--shot", "two", "--new-take"]) == 0  # take 2 of shot two, in the cut
    assert main(["render", str(film)]) == 0
    before = signs(out)
    film.write_text(FILM.replace("{id: two, duration: 1.5,", "{id: two, take: 1, duration: 1.5,"))
    assert main(["render", str(film)]) == 0
    now = changed(before, signs(out))
    assert {"final.mp4", "manifest.json"} | PAGES | EDITORIAL <= now
    assert {"media/002_two_t1.mp4", "media/002_two_t2.mp4"} <= now  # media/ names the take in the cut
    assert "pinned" in (out / "review.html").read_text()


def test_the_editor_files_follow_the_media_root(project, capsys):
    film, out = rendered(project, capsys)
    before = signs(out)
    assert main(["render", str(film), "--media-root", "/Volumes/Edit/film"]) == 0
    assert changed(before, signs(out)) == EDITORIAL | {"manifest.json"}
    assert "file:///Volumes/Edit/film/media/" in (out / "timeline.otio").read_text()


def test_the_boards_follow_their_layout_fonts_and_code_and_the_page_its_template(project, capsys, monkeypatch):
    from storyboard.exports import boards, review
    film, out = rendered(project, capsys)
    before = signs(out)
    assert main(["boards", str(film), "--grid", "3x3"]) == 0
    assert changed(before, signs(out)) == {"boards.pdf"}
    before = signs(out)
    assert main(["boards", str(film), "--grid", "3x3"]) == 0
    assert signs(out) == before
    latin, cjk = boards.fonts()
    (project / "fonts").mkdir()
    newer = project / "fonts" / latin.name  # the same face as another release would install it
    newer.write_bytes(latin.read_bytes())
    with monkeypatch.context() as patched:
        patched.setattr(boards, "fonts", lambda: (newer, cjk))
        assert main(["boards", str(film), "--grid", "3x3"]) == 0
    assert changed(before, signs(out)) == {"boards.pdf"}
    before = signs(out)
    with monkeypatch.context() as patched:
        patched.setattr(review, "_code", lambda: "a new template")
        assert main(["render", str(film)]) == 0
    assert changed(before, signs(out)) == {"review.html", "manifest.json", "boards.pdf"}  # the grid is 2x3 again


def test_a_deleted_or_hand_edited_output_is_made_again_and_nothing_else(project, capsys):
    film, out = rendered(project, capsys)
    assert main(["render", str(film)]) == 0
    made = {f: (out / f).read_bytes() for f in ("shotlist.csv", "timeline.otio", "final.srt")}
    still = next(p for p in (out / "review").iterdir() if p.suffix == ".jpg")
    (out / "review.html").write_text("<p>mine</p>")
    (out / "boards.pdf").unlink()
    (out / "shotlist.csv").write_text("id\n")
    (out / "timeline.otio").write_text("{}")
    (out / "final.srt").write_text("1\n")
    still.unlink()
    sound = out / "media" / "002_two_t1.wav"
    sound.unlink()
    before = signs(out)
    assert main(["render", str(film)]) == 0
    now = changed(before, signs(out))
    mine = {"review.html", "boards.pdf", "shotlist.csv", "timeline.otio", "final.srt", str(still.relative_to(out)),
            "media/002_two_t1.wav"}
    assert mine <= now
    # the media are made together; the other edit files and review/'s marker may be written, nothing else
    assert now - mine <= {"final.edl", "final.xml", "review/.storyboard-out"} | {
        str(p.relative_to(out)) for p in (out / "media").iterdir()}
    assert (out / "final.srt").read_bytes() == made["final.srt"] and sound.stat().st_size > 1000
    page = (out / "review.html").read_text()
    assert "mine" not in page and 'id="shot-three"' in page and still.exists()
    assert (out / "shotlist.csv").read_bytes() == made["shotlist.csv"]
    assert (out / "timeline.otio").read_bytes() == made["timeline.otio"]
    assert (out / "boards.pdf").read_bytes()[:5] == b"%PDF-"
