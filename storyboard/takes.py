"""Takes: every take of a shot's request, the pinned take checked, and the clip a shot keeps in the cut
when this run made none for it. Picking a take never calls a provider: it is a cache lookup."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.model.jobs import Entry, Outcome, Plan, Prepared, Rendered, RenderJob
from storyboard.stages.planner import found_takes, take_key
from storyboard.store.cache import Cache



@dataclass(frozen=True)
class Take:
    """One take of a request: made (a clip in the cache), or refused or failed at the provider."""

    number: int
    key: str
    status: str  # "made" | "blocked" | "failed"
    created: float | None  # seconds since the epoch
    model: str  # as the provider reported it
    seconds: float  # billed
    cost: float  # dollars, when it was made
    reason: str = ""
    entry: Entry | None = None


def list_takes(cache: Cache, base_key: str) -> list[Take]:
    """Every take the cache knows of for a request, in order; a failed attempt shows too."""
    out: list[Take] = []
    found = found_takes(cache, base_key)
    last = max([found.counted, *found.entries])
    n = 1
    while n <= last or cache.record("failures", take_key(base_key, n)) is not None:
        key = take_key(base_key, n)
        entry = found.entries.get(n)
        if entry is not None:
            m = entry.meta
            out.append(Take(n, key, "made", m.get("created"), m.get("model_reported") or m.get("model", ""),
                            float(m.get("seconds_billed") or 0.0), float(m.get("cost") or 0.0), entry=entry))
        elif (rec := cache.record("failures", key)) is not None:
            out.append(Take(n, key, rec.get("status", "failed"), rec.get("time"), "", 0.0, 0.0,
                            reason=rec.get("reason", "")))
        n += 1
    return out


def pins(prep: Prepared) -> dict[str, int]:
    """The takes the storyboard pins (`take: N`), by shot id."""
    return {s.id: s.take for s in prep.loaded.storyboard.shots if s.take is not None}


def pin_problems(prep: Prepared, plan: Plan) -> list[Diagnostic]:
    """Warnings, placed at the `take:`: a pinned take the shot's current request does not have (the
    shot changed, continues one that changed, or the cache is new). The cut uses the shot's latest
    take instead, rendered if there is none: a pin never blocks a render or a validate."""
    index = {s.id: i for i, s in enumerate(prep.loaded.storyboard.shots)}
    out = []
    for m in plan.missing_takes:
        if m.existing:
            has = f"which its current request on {plan.backend} does not have (it has take" \
                  + "s" * (len(m.existing) > 1) + " " + ", ".join(map(str, m.existing)) + ")"
            fix = (f"the cut uses take {plan.job(m.shot).take}, its latest; pin one of those, or make it with "
                   f"`storyboard render FILE --shot {m.shot} --takes {m.take}`")
        else:
            has = (f"but its current request on {plan.backend} has no takes yet (the shot changed, continues one "
                   "that changed, or this cache is new)")
            fix = (f"the cut uses its latest take, rendered if needed; once you like one, pin it "
                   f"(`storyboard takes FILE {m.shot}`), or remove `take: {m.take}`")
        out.append(prep.loaded.positions.diag(("shots", index[m.shot], "take"),
                                              f"shot '{m.shot}' pins take {m.take}, {has}: {fix}", severity="warning",
                                              shot=m.shot))
    return out


def last_cut(out_dir: Path) -> dict[str, dict]:
    """What the last cut in `out_dir` used, by shot id (from its manifest.json); {} when there is none."""
    try:
        man = json.loads((out_dir / "manifest.json").read_text("utf-8"))
        return {s["id"]: s for s in man.get("shots", []) if isinstance(s, dict) and "id" in s}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def from_cache(plan: Plan, cache: Cache, last: dict[str, dict] | None = None) -> dict[str, Outcome]:
    """Each shot's outcome as the cache has it, rendering nothing: its clip, else why it has none.
    A shot the last cut in this folder rendered with the same key reads as rendered there."""
    last = last or {}
    out: dict[str, Outcome] = {}
    for job in plan.jobs:
        sid = job.shot.id
        entry = cache.get(job.key)
        if entry is not None:
            fresh = last.get(sid, {}).get("key") == job.key and last[sid].get("status") == "rendered"
            out[sid] = Outcome(job, "rendered" if fresh else "cached", entry, warnings=list(entry.meta.get("warnings", [])))
        elif (rec := cache.record("failures", job.key)) is not None:
            out[sid] = Outcome(job, rec.get("status", "failed"), reason=rec.get("reason", ""))
        else:
            out[sid] = Outcome(job, "skipped")
    return out


def keep_clips(outcomes: dict[str, Outcome], cache: Cache, last: dict[str, dict]) -> dict[str, Outcome]:
    """A shot left without a clip keeps one: its request's latest take that has one, else the clip the
    last cut in this folder used for it. Only a shot with no clip anywhere stands as a slate, and a
    cut never loses a shot the last cut had while the cache still holds its clip."""
    out = dict(outcomes)
    for sid, o in outcomes.items():
        if o.entry is not None:
            continue
        kept = _latest_other_take(cache, o.job)
        what = f"take {kept[1]}" if kept else ""
        if kept is None and (prev := last.get(sid)) and prev.get("clip") and _is_key(prev.get("key")):
            entry = cache.get(prev["key"])
            if entry is not None:
                kept = (entry, int(entry.meta.get("take") or prev.get("take") or 1))
                what = f"the clip of the last cut (take {kept[1]} of an earlier version)"
        if kept is None:
            continue
        entry, n = kept
        why = o.reason or o.status
        if o.status == "skipped" and not o.job.selected and why.startswith("not selected"):
            why = f"not selected with --shot, and changed since the last cut; add --shot {sid} to render it anew"
        elif o.status in ("failed", "blocked"):
            why = f"{o.status}: {why}"
        note = f"{why}; the cut keeps {what}"
        job = replace(o.job, key=entry.key, take=n, cached=True, cost=0.0, pinned=False)
        out[sid] = Outcome(job, "kept", entry, reason=note, error=o.error, warnings=[*o.warnings, note])
    return out


def _latest_other_take(cache: Cache, job: RenderJob) -> tuple[Entry, int] | None:
    found = found_takes(cache, job.base_key)
    return next(((found.entries[n], n) for n in reversed(found.numbers) if n != job.take), None)


def _is_key(key: object) -> bool:
    """A cache key (a sha256 in hex), not whatever a hand-edited manifest holds."""
    return isinstance(key, str) and len(key) == 64 and all(ch in "0123456789abcdef" for ch in key)


# -- choosing by identity: the take whose characters look most like their references ----------------

def continued(prep: Prepared) -> set[str]:
    """Shots a continuous shot starts from: their take stays (the next shot was made from its last frame)."""
    return {ctx.previous for ctx in prep.contexts if ctx.previous}


def pick_by_identity(prep: Prepared, rendered: Rendered, cache: Cache, judge=None) -> list[str]:
    """For each shot with several made takes of its request, put the take with the best identity score in
    the cut (identity.verdict.rank; a tie goes to the latest). A pinned take always wins, and a shot a
    continuous shot starts from keeps its take. The chosen outcome says `chosen_by="identity"`; a take this
    run made that is no longer in the cut moves to `rendered.extra`, so what it cost stays in the manifest.
    Returns the shots whose take changed."""
    from storyboard.identity import Judge
    from storyboard.identity.verdict import pick
    judge = judge or Judge(prep.loaded.root, prep.loaded.storyboard, cache)
    keep = continued(prep)
    changed = []
    for ctx in prep.contexts:
        sid = ctx.shot.id
        o = rendered.outcomes.get(sid)
        if o is None or o.job.pinned or sid in keep or o.same_as:
            continue
        made = [t for t in list_takes(cache, o.job.base_key) if t.entry is not None]
        if len(made) < 2:
            continue
        best = pick({t.number: judge.score(t.entry, ctx, sid, t.number) for t in made})
        if best is None:
            continue
        if o.entry is not None and best == o.job.take:
            rendered.outcomes[sid] = replace(o, chosen_by="identity")
            continue
        t = next(t for t in made if t.number == best)
        src = rendered.extra.pop(f"{sid} take {best}", None)
        job = replace(o.job, key=t.key, take=best, cached=src.job.cached if src else True,
                      cost=src.job.cost if src else 0.0)
        if src is not None:
            new = replace(src, job=job, chosen_by="identity")
        else:
            new = Outcome(job, "cached", t.entry, warnings=list(t.entry.meta.get("warnings", [])),
                          spent_earlier=float(t.entry.meta.get("cost") or 0.0), chosen_by="identity")
        if o.status == "rendered" or o.spent or o.unconfirmed:  # paid in this run: it stays on the books
            name = f"{sid} take {o.job.take}"
            rendered.extra[name] = replace(o, job=replace(o.job, shot=o.job.shot.model_copy(update={"id": name})))
        rendered.outcomes[sid] = new
        changed.append(sid)
    return changed


def keep_picks(outcomes: dict[str, Outcome], cache: Cache, last: dict[str, dict]) -> dict[str, Outcome]:
    """A take the last cut in this folder had chosen by identity stays in the cut while it is still a take
    of the shot's request and this run made no new take of it (a pinned take still wins)."""
    out = dict(outcomes)
    for sid, o in outcomes.items():
        prev = last.get(sid) or {}
        if (prev.get("chosen_by") != "identity" or o.job.pinned or o.chosen_by or o.status == "rendered"
                or not _is_key(prev.get("key")) or (o.entry is not None and o.entry.key == prev["key"])):
            continue
        t = next((t for t in list_takes(cache, o.job.base_key) if t.key == prev["key"] and t.entry is not None), None)
        if t is None:
            continue
        out[sid] = Outcome(replace(o.job, key=t.key, take=t.number, cached=True, cost=0.0), "cached", t.entry,
                           warnings=list(t.entry.meta.get("warnings", [])),
                           spent_earlier=float(t.entry.meta.get("cost") or 0.0), chosen_by="identity")
    return out
