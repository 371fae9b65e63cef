"""Multi-shot groups (issue 25): runs of consecutive shots one request of the model makes together.

A storyboard asks for them with `defaults: {multi_shot: scene}` (every run of shots in one location) or
per shot with `group: NAME` (consecutive shots of that name). A run becomes a group while:
- its shots are in the same location;
- every shot goes into the next with a hard cut (a multi-shot clip has no dissolves inside);
- the model holds it: at most `max_shots` shots and `max_seconds` in all, each shot at an allowed length
  (`ModelCaps.multi_shot`).
A shot that does not fit starts a new group; a group of one is a normal request. Greedy from the
first shot, so the same storyboard and model always give the same groups. Pure: reads nothing but
the storyboard and the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.model.caps import ModelCaps, MultiShot
from storyboard.model.storyboard import Storyboard


@dataclass(frozen=True)
class Group:
    """Shots made by one request, in film order. `sent` is what each is asked of the model (its length
    rounded up to one the model allows); the cut trims each back to `asked`."""

    shots: tuple[str, ...]
    indices: tuple[int, ...]
    asked: tuple[float, ...]
    sent: tuple[float, ...]
    label: str | None = None  # the user's `group:` name, if they gave one

    @property
    def name(self) -> str:
        """Stable and unique in a storyboard: the first shot's id."""
        return self.shots[0]

    @property
    def multi(self) -> bool:
        return len(self.shots) > 1

    @property
    def seconds(self) -> float:
        return sum(self.sent)


@dataclass(frozen=True)
class Apart:
    """A shot the user asked to make with the shot before it, and why it could not be."""

    shot: str
    index: int
    after: str
    reason: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"shot '{self.shot}' could not join '{self.after}' in one request: {self.reason}"


def _wish(sb: Storyboard, i: int) -> tuple[str, str] | None:
    """What run a shot asks to be in: its `group:` name, else its scene (location) under multi_shot: scene."""
    shot = sb.shots[i]
    if shot.group is not None:
        return ("group", shot.group)
    if sb.defaults.multi_shot == "scene" and shot.location is not None:
        return ("scene", shot.location)
    return None


def wanted(sb: Storyboard) -> bool:
    """Does the storyboard ask for any multi-shot group?"""
    return sb.defaults.multi_shot != "off" or any(s.group is not None for s in sb.shots)


def form(sb: Storyboard, caps: ModelCaps, model: str = "the model") -> tuple[list[Group], list[Apart]]:
    """Every shot in exactly one group, in film order; and why shots the user asked to join their
    predecessor stand apart. A model without `multi_shot` makes one shot per request."""
    multi: MultiShot | None = caps.multi_shot
    groups: list[Group] = []
    apart: list[Apart] = []
    cur: list[int] = []

    def close() -> None:
        if cur:
            shots = [sb.shots[k] for k in cur]
            sent = tuple((multi.shot_seconds(s.duration) if multi and len(cur) > 1 else None) or s.duration
                         for s in shots)
            label = shots[0].group if all(s.group == shots[0].group for s in shots) else None
            groups.append(Group(tuple(s.id for s in shots), tuple(cur), tuple(s.duration for s in shots), sent,
                                label))
            cur.clear()

    for i, shot in enumerate(sb.shots):
        wish = _wish(sb, i)
        if not cur or wish is None or multi is None:
            close()
            cur.append(i)
            continue
        prev = sb.shots[cur[-1]]
        if _wish(sb, cur[-1]) != wish:  # another run starts here
            if wish[0] == "group" and any(s.group == shot.group for s in sb.shots[:cur[-1]]):
                apart.append(Apart(shot.id, i, prev.id, f"it is in group '{shot.group}' but '{prev.id}' is not; "
                                                        "a group is a run of consecutive shots"))
            close()
            cur.append(i)
            continue
        reason = _why_not(sb, i, cur, multi, model)
        if reason is None:
            cur.append(i)
            continue
        if shot.continuity == "continuous" and not caps.image_reference:
            reason += (f"; and as it continues '{prev.id}' from its last frame, which {model} cannot take as a "
                       "first frame, that continuity is lost")
        apart.append(Apart(shot.id, i, prev.id, reason))
        close()
        cur.append(i)
    close()
    return groups, apart


def _why_not(sb: Storyboard, i: int, cur: list[int], multi: MultiShot, model: str) -> str | None:
    """Why shot i cannot join the group `cur` of the same run (None: it can)."""
    shot, prev = sb.shots[i], sb.shots[cur[-1]]
    if shot.location != prev.location:
        return (f"it is in location '{shot.location}' and '{prev.id}' in '{prev.location}'; one request "
                "makes one location")
    t = sb.transition_after(cur[-1])
    if t.kind != "cut":
        return f"'{prev.id}' goes into it with a {t}; a multi-shot request joins its shots with hard cuts only"
    for k in ((cur[0], i) if len(cur) == 1 else (i,)):
        s = sb.shots[k]
        if multi.shot_seconds(s.duration) is None:
            return (f"'{s.id}' lasts {s.duration:g}s; {model} makes shots of at most "
                    f"{max(multi.shot_durations):g}s inside one request")
    if len(cur) + 1 > multi.max_shots:
        return (f"'{sb.shots[cur[0]].id}'..'{prev.id}' already hold {len(cur)} shots, the most {model} makes "
                "in one request")
    total = sum(multi.shot_seconds(sb.shots[k].duration) or 0 for k in [*cur, i])
    if total > multi.max_seconds + 1e-9:
        return (f"the request would last {total:g}s with it; {model} makes at most {multi.max_seconds:g}s "
                "in one request")
    return None


def of_shot(groups: list[Group]) -> dict[str, Group]:
    """Each shot's group, by shot id."""
    return {sid: g for g in groups for sid in g.shots}


def describe(groups: list[Group]) -> str:
    """One line a group, for the plan and the golden tests: `first..last (n shots, Ns): a 4+b 5`."""
    lines = []
    for g in groups:
        parts = " + ".join(f"{s} {a:g}s" + (f"->{d:g}s" if d != a else "") for s, a, d in zip(g.shots, g.asked, g.sent))
        head = g.name + (f" [{g.label}]" if g.label else "")
        lines.append(f"{head}: {len(g.shots)} shot{'s' if g.multi else ''}, {g.seconds:g}s: {parts}")
    return "\n".join(lines)


def boundaries(total_frames: int, sent: tuple[float, ...] | list[float]) -> list[tuple[int, int]]:
    """Where a group's clip of `total_frames` is split into its shots: [start, end) frames, from the
    lengths asked (`sent`). A clip as long as asked splits at exactly the asked frames; one longer or
    shorter spreads the difference over the shots in proportion to their lengths (exact fractions,
    rounded half up once per boundary, so the parts always add up to the clip)."""
    from fractions import Fraction
    whole = sum(Fraction(s).limit_denominator(1000) for s in sent)
    cuts, run = [0], Fraction(0)
    for s in sent:
        run += Fraction(s).limit_denominator(1000)
        cuts.append(int(total_frames * run / whole + Fraction(1, 2)))
    cuts[-1] = total_frames
    return list(zip(cuts, cuts[1:]))
