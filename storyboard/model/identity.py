"""What the identity check says about a clip: each on-screen character's distance to their reference, and a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

ON_MODEL, UNCERTAIN, DRIFT, MISSING = "on-model", "uncertain", "drift", "missing"
VERDICTS = (ON_MODEL, UNCERTAIN, DRIFT, MISSING)
BAD = (DRIFT, MISSING)  # what the review page flags, `--retake-drift` re-renders and `--pick identity` avoids


@dataclass(frozen=True)
class CharacterScore:
    """One on-screen character in one clip."""

    character: str  # id
    name: str
    verdict: str  # on-model | uncertain | drift | missing
    distance: float | None  # to the nearest reference face, in the best frame; None when no face was theirs
    time: float | None  # seconds into the clip of the best frame
    why: str = ""  # a verdict's reason in words ("no face in 7 sampled frames", "wide framing: faces too small")
    face: int | None = None  # index of the best face in the clip's record (its crop), None without one


@dataclass(frozen=True)
class ClipScore:
    """Every checked character of one take of a shot."""

    shot: str
    take: int
    key: str  # the clip's cache key
    characters: list[CharacterScore] = field(default_factory=list)

    @property
    def worst(self) -> str | None:
        """The worst verdict of the clip (missing, drift, uncertain, on-model), None with no character checked."""
        order = (MISSING, DRIFT, UNCERTAIN, ON_MODEL)
        have = {c.verdict for c in self.characters}
        return next((v for v in order if v in have), None)

    @property
    def flagged(self) -> bool:
        return any(c.verdict in BAD for c in self.characters)
