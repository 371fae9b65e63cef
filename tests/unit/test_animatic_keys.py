"""The animatic's cache keys of the examples' shots, pinned: reorganising how a panel is described
or drawn must not re-render a user's cached clips. A key may change only with a bump of the look
version (animatic.backend.LOOK), announced; then rewrite the pins with --update-golden."""

from __future__ import annotations

import json

import pytest

import storyboard
from storyboard.animatic.backend import LOOK
from storyboard.store.cache import Cache
from tests.conftest import EXAMPLES, ROOT

PINS = ROOT / "tests" / "golden" / "animatic_keys.json"
FILMS = ("keeper/keeper.yaml", "series/ep01.yaml", "series/ep02.yaml")
NOWHERE = """
version: 1
characters:
  ana: {description: a woman, voice: low}
  kid: {description: a seven-year-old boy}
shots:
  - id: a
    duration: 3
    characters: [ana, kid]
    camera: {framing: close-up, lens: 35mm}
    dialogue:
      - ana: "(V.O.) Where?"
      - kid: "(whispering) Here."
"""  # no location, a voice-over, a lens: the parts of a panel the examples lack


def keys(tmp) -> dict[str, dict[str, str]]:
    (tmp / "nowhere.yaml").write_text(NOWHERE)
    out = {}
    for film in (*FILMS, "nowhere.yaml"):
        prep = storyboard.compile(EXAMPLES / film if film in FILMS else tmp / film, backend="animatic")
        plan = storyboard.plan(prep, cache=Cache())
        out[film] = {j.shot.id: j.key for j in plan.jobs}
    return out


def test_the_examples_keep_their_animatic_cache_keys(request, project):
    now = {"look": LOOK, "keys": keys(project)}
    if request.config.getoption("--update-golden"):
        PINS.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        pytest.skip("pins rewritten")
    pinned = json.loads(PINS.read_text())
    assert LOOK == pinned["look"], "a new look: rewrite the pins with --update-golden and announce the bump"
    assert now == pinned, "the animatic's cache keys changed without a new look: every user's clips would render again"
