"""A re-run whose cut inputs are unchanged rewrites nothing; a change rewrites what it shapes."""

from __future__ import annotations

import os

from storyboard.cli import main
from tests.conftest import read_manifest

FILM = """
version: 1
characters: {ana: {name: Ana, description: a woman}}
shots:
  - {id: one, duration: 1.5, characters: [ana], dialogue: [{ana: Hello.}], transition: dissolve 0.5s}
  - {id: two, duration: 1.5, characters: [ana]}
  - {id: three, duration: 1, characters: [ana]}
"""
CUT = ["final.mp4", "final.srt", "final.vtt", "final.edl", "final.xml", "timeline.otio"]


def signs(out):
    files = [out / n for n in CUT] + sorted((out / "media").iterdir())
    return {f.name: (os.stat(f).st_ino, os.stat(f).st_mtime_ns) for f in files}


def test_an_unchanged_rerun_rewrites_nothing_and_a_change_rewrites_the_cut(project, capsys):
    film = project / "film.yaml"
    film.write_text(FILM)
    out = project / "film"
    assert main(["render", str(film)]) == 0
    first = signs(out)
    capsys.readouterr()
    assert main(["render", str(film)]) == 0
    assert signs(out) == first  # not one of them written again
    assert "cut: the cut is unchanged" in capsys.readouterr().err
    sound = read_manifest(out)["sound"]
    assert sound["on_target"] and abs(sound["loudness_lufs"] - -14) <= 0.5  # the figures are kept
    assert main(["render", str(film), "--loudness", "-16"]) == 0  # a new level: a new final.mp4 only
    again = signs(out)
    assert again["final.mp4"] != first["final.mp4"]
    assert {k: v for k, v in again.items() if k != "final.mp4"} == {k: v for k, v in first.items() if k != "final.mp4"}
    (out / "final.mp4").write_bytes(b"not a film")  # a file not as we wrote it is made again
    assert main(["render", str(film), "--loudness", "-16"]) == 0
    assert (out / "final.mp4").stat().st_size > 1000
