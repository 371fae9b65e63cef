"""The manifest says where each shot sits in the cut and every warning it had, before any render."""

from __future__ import annotations

from storyboard import cutting
from storyboard.model.jobs import Outcome
from storyboard.pipeline import make_plan, prepare, shot_warnings
from storyboard.stages.loader import loads

FILM = """
version: 1
defaults: {fps: 24}
characters: {ana: {description: a woman}}
shots:
  - {id: one, duration: 4, transition: dissolve 1s}
  - id: two
    duration: 2
    characters: [ana]
    dialogue:
      - ana: We should have left before the rain came down on the whole town tonight.
  - {id: three, duration: 3.5}
"""


def test_in_and_out_in_the_cut_and_the_plan_s_warnings(project):
    prep = prepare(loads(FILM, project / "film.yaml"), "openai")
    plan = make_plan(prep)
    outcomes = {j.shot.id: Outcome(j, "skipped", reason="not rendered") for j in plan.jobs}
    man = cutting.manifest(prep.loaded, "openai", outcomes, 0.0, warnings=shot_warnings(prep))
    by = {s["id"]: s for s in man["shots"]}
    assert [(by[s]["in"], by[s]["out"]) for s in ("one", "two", "three")] == [(0.0, 4.0), (3.0, 5.0), (5.0, 8.5)]
    assert (by["two"]["in_timecode"], by["three"]["out_timecode"]) == ("00:00:03:00", "00:00:08:12")
    assert any("needs about" in w for w in by["two"]["warnings"])
    assert any("trimmed in the cut" in w for w in by["three"]["warnings"])  # sora-2 makes 4 s for 3.5 s
    assert by["one"]["warnings"] == []
