"""The identity check's pure side: faces shared out among characters by an optimal assignment, verdicts by
the documented thresholds, missing by framing, the take picked by score, who is checked. (Recognition itself
is tested on real photos in tests/backends/test_identity.py; here descriptors are points chosen by hand.)"""

from __future__ import annotations

import itertools
import random
import sys

import pytest

from storyboard import identity, loads
from storyboard.identity.verdict import assign, exact_assignment, judge, pick, rank, verdict_of
from storyboard.model.identity import CharacterScore, ClipScore

pytestmark = pytest.mark.unit


def brute(cost):
    n, m = len(cost), len(cost[0])
    if n <= m:
        return min(sum(cost[i][j] for i, j in enumerate(p)) for p in itertools.permutations(range(m), n))
    return min(sum(cost[i][j] for j, i in enumerate(p)) for p in itertools.permutations(range(n), m))


@pytest.mark.parametrize("n,m", [(1, 1), (2, 3), (3, 2), (4, 4), (5, 3), (2, 6)])
def test_the_assignment_is_optimal_with_or_without_scipy(n, m, monkeypatch):
    rnd = random.Random(n * 10 + m)
    for _ in range(20):
        cost = [[rnd.random() for _ in range(m)] for _ in range(n)]
        pairs = exact_assignment(cost)
        assert len(pairs) == min(n, m) and len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        assert sum(cost[i][j] for i, j in pairs) == pytest.approx(brute(cost))
        with_scipy = assign(cost)
        monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # as where scipy is not installed
        assert assign(cost) == pairs
        monkeypatch.delitem(sys.modules, "scipy.optimize")
        assert sum(cost[i][j] for i, j in with_scipy) == pytest.approx(brute(cost))


def test_faces_go_to_characters_by_the_least_total_distance_not_first_come():
    # Ana's nearest face is Ben's (0.30 vs Ben's 0.31): first-come would give Ben the stranger-like 0.9
    refs = {"ana": [[0.0, 0.0]], "ben": [[0.61, 0.0]]}
    faces = [{"emb": [0.30, 0.0]}, {"emb": [-0.35, 0.0]}]  # face 0: 0.30 from Ana, 0.31 from Ben; face 1: 0.35, 0.96
    got = judge([{"t": 1.5, "faces": faces}], [("ana", "Ana"), ("ben", "Ben")], refs, "medium")
    by = {c.character: c for c in got}
    assert by["ana"].distance == pytest.approx(0.35) and by["ana"].verdict == "on-model"
    assert by["ben"].distance == pytest.approx(0.31) and by["ben"].verdict == "on-model"
    assert by["ana"].face == 1 and by["ben"].face == 0 and by["ana"].time == 1.5


def test_verdicts_follow_the_documented_thresholds():
    assert [verdict_of(d) for d in (0.2, 0.5, 0.55, 0.6, 0.61, 0.9)] == [
        "on-model", "on-model", "uncertain", "uncertain", "drift", "drift"]


def test_the_best_frame_is_the_nearest_and_a_character_without_a_face_is_missing_up_close_only():
    refs = {"ana": [[0.0, 0.0]], "ben": [[5.0, 5.0]]}
    frames = [{"t": 0.5, "faces": [{"emb": [0.7, 0.0]}]}, {"t": 2.5, "faces": [{"emb": [0.2, 0.0]}, {"emb": None}]},
              {"t": 3.5, "faces": []}]
    for framing, ben in (("close-up", "missing"), ("medium", "missing"), ("wide", "uncertain"),
                         ("over-the-shoulder", "uncertain")):
        got = {c.character: c for c in judge(frames, [("ana", "Ana"), ("ben", "Ben")], refs, framing)}
        assert (got["ana"].verdict, got["ana"].time, got["ana"].face) == ("on-model", 2.5, 1)
        assert got["ben"].verdict == ben and got["ben"].distance is None and got["ben"].why
    # a character with no reference face is not judged at all
    assert [c.character for c in judge(frames, [("ana", "Ana"), ("cy", "Cy")], refs, "medium")] == ["ana"]


def score(take: int, *verdicts_distances) -> ClipScore:
    return ClipScore("s", take, f"k{take}", [CharacterScore(f"c{i}", f"C{i}", v, d, 0.0)
                                            for i, (v, d) in enumerate(verdicts_distances)])


def test_the_pick_prefers_fewer_drifts_then_the_nearer_and_ties_go_to_the_latest():
    drift, on, near = score(1, ("drift", 0.7)), score(2, ("on-model", 0.42)), score(3, ("on-model", 0.3))
    assert pick({1: drift, 2: on, 3: drift}) == 2
    assert pick({1: drift, 2: on, 3: near}) == 3
    assert pick({1: score(1, ("on-model", 0.301)), 2: score(2, ("on-model", 0.299)), 3: None}) == 2  # a tie: latest
    assert pick({1: score(1, ("missing", None)), 2: score(2, ("drift", 0.65))}) == 2  # equally bad: the latest
    assert pick({1: score(1, ("uncertain", 0.55), ("on-model", 0.2)), 2: score(2, ("drift", 0.61), ("on-model", 0.2))}) == 1
    assert pick({1: None, 2: ClipScore("s", 2, "k2", [])}) is None  # nothing scored: not identity's choice
    assert rank(None) > rank(drift)


FILM = """
version: 1
characters:
  mara: {description: a lighthouse keeper in her sixties}
  rex: {description: a scruffy collie dog}
  walker: {description: a man with his old dog}
  ship: {description: the rusting trawler Morag}
  bot: {description: a friendly robot, identity: true}
  ghost: {description: a woman seen only in mirrors, identity: false}
shots:
  - {id: a, duration: 2}
"""


def test_who_is_checked_explicit_or_inferred_from_the_description():
    sb = loads(FILM, "f.yaml").storyboard
    assert {cid for cid in sb.characters if identity.checked(sb, cid)} == {"mara", "walker", "bot"}
