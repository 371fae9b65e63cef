"""Takes: every take of a shot's request, the pinned take checked, and the clip a shot keeps in the cut
when this run made none for it. Picking a take never calls a provider: it is a cache lookup."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.model.jobs import Entry, Outcome, Plan, Prepared, RenderJob
from storyboard.stages.planner import existing_takes, take_key
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
    made = set(existing_takes(cache, base_key))
    last = max([cache.take(base_key), *made])
    n = 1
    while n <= last or cache.record("failures", take_key(base_key, n)) is not None:
        key = take_key(base_key, n)
        entry = cache.get(key) if n in made else None
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
    for n in reversed(existing_takes(cache, job.base_key)):
        if n != job.take and (entry := cache.get(take_key(job.base_key, n))) is not None:
            return entry, n
    return None


def _is_key(key: object) -> bool:
    """A cache key (a sha256 in hex), not whatever a hand-edited manifest holds."""
    return isinstance(key, str) and len(key) == 64 and all(ch in "0123456789abcdef" for ch in key)
