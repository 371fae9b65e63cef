"""The animatic's cache keys of the examples' shots, pinned: reorganising how a panel is described
or drawn must not re-render a user's cached clips. A key may change only with a bump of the look
version (animatic.backend.LOOK), announced; then rewrite the pins with --update-golden."""

from __future__ import annotations

import json

import pytest

import storyboard
from storyboard.store.cache import Cache
from tests.conftest import EXAMPLES, ROOT

PINS = ROOT / "tests" / "golden" / "animatic_keys.json"
FILMS = ("keeper/keeper.yaml", "series/ep01.yaml", "series/ep02.yaml")


def keys() -> dict[str, dict[str, str]]:
    out = {}
    for film in FILMS:
        prep = storyboard.compile(EXAMPLES / film, backend="animatic")
        plan = storyboard.plan(prep, Cache())
        out[film] = {j.shot.id: j.key for j in plan.jobs}
    return out


def test_the_examples_keep_their_animatic_cache_keys(request):
    now = keys()
    if request.config.getoption("--update-golden"):
        PINS.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        pytest.skip("pins rewritten")
    assert now == json.loads(PINS.read_text())
