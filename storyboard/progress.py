"""What a render's progress display shows, apart from how it is drawn: shots counted by state in
O(1) per event (ten thousand shots stay as quick as ten), an ETA, and warnings grouped by kind so
a long film does not repeat one warning for every shot. Pure: the CLI draws it."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Hashable

FINISHED = ("done", "cached", "failed", "skipped")  # the buckets a shot ends in
_BUCKET = {"queued": "queued", "done": "done", "cached": "cached", "failed": "failed", "blocked": "failed",
           "skipped": "skipped"}  # any other state is a backend's own step: working


def bucket(state: str) -> str:
    return _BUCKET.get(state, "working")


class Tally:
    """Shots by state, for a bar: each event moves one shot from one bucket to another."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.clock = clock
        self.t0 = clock()
        self.started: float | None = None  # when the first shot began rendering (cached ones take no time)
        self.counts: Counter[str] = Counter({"queued": total})
        self.spent = 0.0
        self._state: dict[Hashable, str] = {}

    def update(self, shot: Hashable, state: str, spent: float = 0.0) -> None:
        """`spent` is what the run has spent so far (events report the run's running total)."""
        new = bucket(state)
        old = self._state.get(shot, "queued")
        if new != old:
            self.counts[old] -= 1
            self.counts[new] += 1
            self._state[shot] = new
        if new == "working" and self.started is None:
            self.started = self.clock()
        self.spent = max(self.spent, spent)

    @property
    def finished(self) -> int:
        return sum(self.counts[b] for b in FINISHED)

    @property
    def elapsed(self) -> float:
        return self.clock() - self.t0

    def eta(self) -> float | None:
        """Seconds left at the pace of the shots rendered so far (cached shots do not count: they
        cost no time); None until one has been rendered."""
        made = self.counts["done"] + self.counts["failed"]
        if not made or self.started is None:
            return None
        return (self.total - self.finished) * (self.clock() - self.started) / made


# -- warnings by kind ------------------------------------------------------------------------------

GISTS = [  # (what the message says, the kind in a few words): groups read as "37 shots: <gist>"
    (r"^the dialogue of shot .* needs about", "the dialogue needs longer than the shot lasts; lengthen the shots "
                                              "or cut words"),
    (r"runs past the end of the", "a line runs past the end of the shot and is cut; lengthen the shots or cut words"),
    (r"does not fit the .* shot and is not heard", "a line does not fit the shot and is not heard"),
    (r"makes [\d.]+s for this [\d.]+s shot", "rendered longer than the shot and trimmed in the cut"),
    (r"takes no image reference", "continuity in words only: the model takes no image reference"),
    (r"^the clip is \d+x\d+, not", "the clip's size differs from the film's; scaled to fit"),
    (r"^the clip has no sound", "the clip has no sound; silence is used"),
    (r"characters with cameos", "more characters with cameos than the model takes; the others are described in words"),
    (r"reference images;", "more reference images than the model takes"),
]
NAMED = {gist for _, gist in GISTS}


def kind_of(message: str) -> str:
    """Messages of one kind differ only in ids, names and numbers."""
    for pattern, gist in GISTS:
        if re.search(pattern, message):
            return gist
    m = re.sub(r"'[^']*'", "'…'", message)
    m = re.sub(r"\([^)]*\)", "(…)", m)
    return re.sub(r"\d+(\.\d+)?", "N", m)


@dataclass
class Group:
    """Warnings of one kind: the words for the kind, the shots, and the first message in full."""

    gist: str
    shots: list[str] = field(default_factory=list)
    first: str = ""


def group(items: list[tuple], least: int = 4) -> tuple[list[Group], list[tuple]]:
    """(groups, singles) from (shot, message, ...) items, in order of first appearance: a kind that
    at least `least` shots share becomes one group; the other items stay as they are, one per shot."""
    by_kind: dict[str, Group] = {}
    for shot, message, *_ in items:
        g = by_kind.setdefault(kind_of(message), Group(kind_of(message), first=message))
        if shot not in g.shots:
            g.shots.append(shot)
    groups = [g for g in by_kind.values() if len(g.shots) >= least]
    big = {g.gist for g in groups}
    return groups, [item for item in items if kind_of(item[1]) not in big]


def some(ids: list[str], shown: int = 5) -> str:
    """The first few ids, and how many more."""
    head = ", ".join(ids[:shown])
    return head + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


# -- what a run reports as it goes ---------------------------------------------------------------

class Progress:
    """What a render tells as it goes, to whoever shows it (the command line's live table, a bar in a
    notebook). Subclass it and override what you show; each method does nothing here. `event` is
    called from the render's threads. `index` is the storyboard's place in a run of several (0 for one)."""

    def start(self, total: int, names: list[str]) -> None:
        """Before the first event: how many shots the run has in all, and the storyboards' names."""

    def event(self, index: int, event) -> None:
        """A shot changed state (a storyboard.model.jobs.Event: shot, state, percent, spent...)."""

    def step(self, index: int, text: str) -> None:
        """A step of the cut began ("mixing the sound", ...)."""

    def cut(self, index: int, rendered, result) -> None:
        """A storyboard's cut is written (its Rendered and CutResult)."""

    def close(self) -> None:
        """The run ended, done or not."""


class Callbacks(Progress):
    """A Progress made of plain functions of (index, event), (index, text) and (index, rendered, result);
    the ones not given do nothing."""

    def __init__(self, event=None, step=None, cut=None):
        self._event, self._step, self._cut = event, step, cut

    def event(self, index: int, event) -> None:
        if self._event:
            self._event(index, event)

    def step(self, index: int, text: str) -> None:
        if self._step:
            self._step(index, text)

    def cut(self, index: int, rendered, result) -> None:
        if self._cut:
            self._cut(index, rendered, result)
