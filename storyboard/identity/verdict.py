"""From faces found in a clip to a verdict per character, and from verdicts to the take to keep (pure).

Distances are dlib's: Euclidean between 128-d face descriptors, where 0.6 is the usual line between
the same person and another. A character's distance is to the nearest of their reference faces, in
the sampled frame where their face is nearest (the best frame); in each frame the faces are shared
out among the shot's characters by an optimal assignment (the least total distance), never
first-come."""

from __future__ import annotations

import math
from typing import Sequence

from storyboard.model.identity import BAD, DRIFT, MISSING, ON_MODEL, UNCERTAIN, CharacterScore, ClipScore

# The documented thresholds (README "Did the character stay the same person?").
ON_MODEL_AT_MOST = 0.5  # a distance up to this is the same person, with margin under dlib's 0.6
DRIFT_ABOVE = 0.6  # dlib's usual threshold: above it, another person
# framings at which an on-screen character's face must show: no face there is "missing"
FACE_EXPECTED = ("medium", "medium-close", "close-up", "extreme-close-up")
_NO_FACE_WHY = {
    "wide": "wide framing: a face may be too small to find",
    "extreme-wide": "extreme-wide framing: a face may be too small to find",
    "over-the-shoulder": "over the shoulder: one of them may be seen from behind",
    "pov": "a point-of-view shot: the viewer is not seen",
    "insert": "an insert: a detail, not a face",
}


def verdict_of(distance: float) -> str:
    if distance <= ON_MODEL_AT_MOST:
        return ON_MODEL
    return DRIFT if distance > DRIFT_ABOVE else UNCERTAIN


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def nearest(face: Sequence[float], refs: Sequence[Sequence[float]]) -> float:
    """The distance from a face to the nearest of a character's reference faces."""
    return min(distance(face, r) for r in refs)


def assign(cost: list[list[float]]) -> list[tuple[int, int]]:
    """The (row, column) pairs of least total cost, one per row or column, whichever are fewer
    (rows: characters, columns: faces). scipy's Hungarian solver when scipy is there; else an exact
    search of its own, fine at the sizes a frame has (a few faces)."""
    if not cost or not cost[0]:
        return []
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        return exact_assignment(cost)
    rows, cols = linear_sum_assignment(cost)
    return sorted(zip(map(int, rows), map(int, cols)))


def exact_assignment(cost: list[list[float]]) -> list[tuple[int, int]]:
    """The optimal assignment by dynamic programming over subsets of the longer side (exact; for the
    few faces and characters of one frame)."""
    n, m = len(cost), len(cost[0])
    flip = n > m
    c = [list(col) for col in zip(*cost)] if flip else cost
    n, m = len(c), len(c[0])  # n <= m: every row gets a column
    if m > 16:
        raise ValueError("too many faces or characters for an exact assignment without scipy")
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for i in range(n):
        nxt: dict[int, tuple[float, tuple[int, ...]]] = {}
        for mask, (total, cols) in best.items():
            for j in range(m):
                if mask & (1 << j):
                    continue
                key, val = mask | (1 << j), (total + c[i][j], cols + (j,))
                if key not in nxt or val[0] < nxt[key][0]:
                    nxt[key] = val
        best = nxt
    _, cols = min(best.values(), key=lambda v: v[0])
    pairs = [(i, j) for i, j in enumerate(cols)]
    return sorted((j, i) for i, j in pairs) if flip else pairs


def judge(frames: list[dict], characters: list[tuple[str, str]], refs: dict[str, list[list[float]]],
          framing: str) -> list[CharacterScore]:
    """A score per character from a clip's record. `frames`: [{"t": seconds, "faces": [{"emb": [...] | None}]}]
    (faces numbered through the clip in order); `characters`: (id, name) of those on screen to check;
    `refs`: their reference descriptors (a character without any is not judged)."""
    chars = [(cid, name) for cid, name in characters if refs.get(cid)]
    best: dict[str, tuple[float, float, int]] = {}  # cid -> (distance, time, face index)
    index, found, sampled = 0, 0, len(frames)
    for fr in frames:
        faces = []
        for f in fr.get("faces", []):
            if f.get("emb"):
                faces.append((index, f["emb"]))
            index += 1
            found += 1
        if not faces or not chars:
            continue
        cost = [[nearest(emb, refs[cid]) for _, emb in faces] for cid, _ in chars]
        for row, col in assign(cost):
            d = cost[row][col]
            cid = chars[row][0]
            if cid not in best or d < best[cid][0]:
                best[cid] = (d, float(fr["t"]), faces[col][0])
    out = []
    for cid, name in chars:
        if cid in best:
            d, t, face = best[cid]
            out.append(CharacterScore(cid, name, verdict_of(d), round(d, 4), round(t, 3), face=face))
        elif framing in FACE_EXPECTED:
            why = (f"no face in any of {sampled} sampled frames" if not found else
                   f"no face of theirs in {sampled} sampled frames ({found} face{'s' * (found != 1)} found, "
                   "nearer to the others)")
            out.append(CharacterScore(cid, name, MISSING, None, None, why))
        else:
            out.append(CharacterScore(cid, name, UNCERTAIN, None, None,
                                      "no face found; " + _NO_FACE_WHY.get(framing, f"{framing} framing")))
    return out


def rank(score: ClipScore | None) -> tuple:
    """How good a take's identity is (lower is better): fewer drifted or missing characters, then
    fewer uncertain, then the lower mean distance (to 0.01: closer than that is a tie). An unscored
    take ranks after every scored one."""
    if score is None or not score.characters:
        return (1, 0, 0, 0.0)
    bad = sum(c.verdict in BAD for c in score.characters)
    unsure = sum(c.verdict == UNCERTAIN for c in score.characters)
    ds = [c.distance for c in score.characters if c.distance is not None]
    mean = round(sum(ds) / len(ds), 2) if ds else 1.0
    return (0, bad, unsure, mean)


def pick(scores: dict[int, ClipScore | None]) -> int | None:
    """The take to keep, by identity: the best rank; a tie goes to the latest take. None when no take
    was scored (the choice is then not identity's to make)."""
    scored = {n: s for n, s in scores.items() if s is not None and s.characters}
    if not scored:
        return None
    return min(scored, key=lambda n: (rank(scored[n]), -n))


__all__ = ["ON_MODEL_AT_MOST", "DRIFT_ABOVE", "FACE_EXPECTED", "verdict_of", "assign", "exact_assignment", "judge",
           "rank", "pick", "DRIFT", "MISSING", "ON_MODEL", "UNCERTAIN"]

