"""CompiledShot -> RenderJob: content keys, takes, cache hits and what each shot costs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from storyboard import catalog as capabilities
from storyboard.common import digest
from storyboard.model.compiled import CompiledShot
from storyboard.model.context import ShotContext
from storyboard.model.jobs import Entry, GroupRequest, KeyExtra, MissingTake, Plan, RenderJob
from storyboard.stages.grouping import Group
from storyboard.store.cache import Cache
from storyboard.store.files import sha256_file


KEY_VERSION = 2  # 2: backend fields apart from the request


def key_fields(shot: CompiledShot, ctx: ShotContext, exact_duration: bool, key_extra: KeyExtra | None) -> dict:
    """What the cache key covers: the request, the length when the backend makes it exactly (others
    make `seconds` and the cut trims), and what the backend itself draws from."""
    req = shot.request()
    if exact_duration:
        req["duration"] = shot.duration
    if key_extra is not None:
        req["backend_fields"] = key_extra(shot, ctx)
    return req


def plan(shots: list[CompiledShot], contexts: list[ShotContext], backend: str, asset_digest: Callable[[str], str],
         cache: Cache, select: Iterable[str] = (), new_take: bool = False, key_extra: KeyExtra | None = None,
         pins: dict[str, int] | None = None, takes: int = 1, groups: list[Group] | None = None) -> Plan:
    """Keys, takes, hits and prices for every shot. `asset_digest` turns a project path into its sha256;
    `key_extra` is the backend's own key fields (project files it reads are listed under "assets").

    A continuous shot's key includes its predecessor's key, which stands for the predecessor's last
    frame: the same key always means the same cached clip, hence the same frame.

    The cut uses a shot's pinned take (`pins`, from `take:`) when its request has it, else its latest
    take with a clip, else the take to make (a pin the request lacks is in `Plan.missing_takes`). `new_take` makes one more take of the selected shots; `takes` makes sure they
    have takes 1..N. Takes the cut does not use go to `Plan.extra`.

    `groups` (stages.grouping.form) makes each group of several shots one request: one key over its
    shots' requests in order, one take count, one price (charged on its first shot's job); any shot
    of it selected, changed or pinned selects, changes or pins the whole group."""
    caps = capabilities.get(backend)
    select = set(select)
    pins = pins or {}
    chosen = _with_dependencies(shots, select) if select else {s.id for s in shots}
    asked = select or {s.id for s in shots}
    renew = asked if new_take else set()
    keys: dict[str, str] = {}
    jobs: list[RenderJob] = []
    extra: list[RenderJob] = []
    missing: list[MissingTake] = []
    multi = {g.shots[0]: g for g in groups or () if g.multi}
    inside = {sid for g in multi.values() for sid in g.shots[1:]}
    by_id = {s.id: s for s in shots}

    def fields_of(shot: CompiledShot) -> dict:
        fields = key_fields(shot, contexts[shot.index], caps.exact_duration, key_extra)
        fields["reference_digests"] = {r: asset_digest(r) for r in project_files(shot, fields)}
        fields["previous"] = keys.get(shot.input_reference.shot) if shot.input_reference and shot.input_reference.shot else None
        if fields["previous"] is None and shot.depends_on:
            fields["previous"] = keys.get(shot.depends_on[0])
        return fields

    ahead: dict[str, Found] = {}
    if cache.READS_AT_ONCE > 1:  # a bucket: what the cache holds of every request that can be known now, at once
        alone = [digest({"v": KEY_VERSION, **fields_of(s)}) for s in shots
                 if s.id not in inside and s.id not in multi and not s.depends_on
                 and not (s.input_reference and s.input_reference.shot)]  # the others' keys hold a take chosen below
        ahead = dict(zip(alone, cache.each(lambda k: found_takes(cache, k), alone)))
    for shot in shots:
        if shot.id in inside:
            continue  # planned with its group's first shot
        if shot.id in multi:
            g = multi[shot.id]
            members = [by_id[s] for s in g.shots]
            wanted = set(range(1, takes + 1)) if takes > 1 and any(s in asked for s in g.shots) else set()
            made, more = _group_jobs(g, members, [fields_of(m) for m in members], caps, cache, chosen, renew, pins,
                                     missing, keys, contexts, wanted)
            jobs += made
            extra += more
            continue
        _, mcaps, _ = caps.model(shot.model)
        ctx = contexts[shot.index]
        fields = fields_of(shot)
        base_key = digest({"v": KEY_VERSION, **fields})
        found = ahead.get(base_key) or found_takes(cache, base_key)
        have = found.numbers
        latest = have[-1] if have else found.counted
        wanted = set(range(1, takes + 1)) if shot.id in asked and takes > 1 else set()
        if shot.id in renew:  # one more than any take made; take 1 if none ever was
            wanted.add(max(latest, found.counted) + 1 if have or latest > 1 else 1)
        pinned = pins.get(shot.id)
        if pinned and pinned not in have and pinned not in wanted:  # the shot changed, or the cache is new:
            missing.append(MissingTake(shot.id, pinned, have))  # a warning; the cut uses the latest take
            pinned = None
        take = pinned or max([latest, *wanted])
        price = mcaps.price_per_second(shot.size)

        def job(n: int, sid: str = shot.id) -> RenderJob:
            key = take_key(base_key, n)
            cached = n in have
            return RenderJob(shot=shot if sid == shot.id else shot.model_copy(update={"id": sid}), key=key,
                             base_key=base_key, take=n, price_per_second=price,
                             cost=0.0 if cached else round(shot.seconds * price, 4), cached=cached, context=ctx,
                             selected=shot.id in chosen or sid != shot.id, pinned=n == pinned)
        cut = job(take)
        keys[shot.id] = cut.key
        jobs.append(cut)
        extra += [job(n, f"{shot.id} take {n}") for n in sorted(wanted - set(have) - {take})]
    seen = {j.key for j in jobs}
    extra = [j for j in extra if not (j.key in seen or seen.add(j.key))]  # a twin's takes are made once
    return Plan(backend=caps.name, jobs=_twins(jobs), extra=extra, missing_takes=missing)


def _group_jobs(g: Group, members: list[CompiledShot], fields: list[dict], caps, cache: Cache, chosen: set[str],
                renew: set[str], pins: dict[str, int], missing: list[MissingTake], keys: dict[str, str],
                contexts: list[ShotContext], wanted: set[int]) -> tuple[list[RenderJob], list[RenderJob]]:
    """The jobs of one multi-shot group: one per shot (the cut's), all of one request. Its key covers
    every shot's request in order with the length it is asked at; only the first shot's first frame
    (its predecessor's last, or a reference still) is sent, so only it counts."""
    parts = []
    for k, (f, sent) in enumerate(zip(fields, g.sent)):
        f = {**f, "seconds": sent, "segments": [sent]}
        if k:
            f.pop("input_reference", None)
            f["previous"] = None  # inside one generation: no frame is handed over
        parts.append(f)
    base_key = digest({"v": KEY_VERSION, "multi_shot": parts})
    found = found_takes(cache, base_key)
    have = found.numbers
    latest = have[-1] if have else found.counted
    take = latest
    if any(s in renew for s in g.shots):
        take = max(latest, found.counted) + 1 if have or latest > 1 else 1
    pinned_by = next((s for s in g.shots if pins.get(s)), None)
    pinned = pins.get(pinned_by) if pinned_by else None
    if pinned and pinned not in have and pinned != take and pinned not in wanted:
        missing.append(MissingTake(pinned_by, pinned, have))
        pinned = None
    take = pinned or max([take, *wanted])
    gkey = take_key(base_key, take)
    cached = take in have
    mcaps = caps.model(members[0].model)[1]
    price = mcaps.price_per_second(members[0].size)
    selected = any(s in chosen for s in g.shots)
    out = []
    for k, m in enumerate(members):
        req = GroupRequest(gkey, base_key, take, tuple(members), g.asked, g.sent, k,
                           tuple(contexts[x.index] for x in members))
        key = part_key(gkey, k)
        keys[m.id] = key
        out.append(RenderJob(shot=m, key=key, base_key=base_key, take=take, price_per_second=price,
                             cost=0.0 if cached or k else round(g.seconds * price, 4), cached=cached,
                             context=contexts[m.index], selected=selected, pinned=take == pinned, group=req))
    more = []  # other takes (--takes N): the group's one job each, on its first shot, made and cut into parts
    for n in sorted(set(wanted) - set(have) - {take}):
        req = GroupRequest(take_key(base_key, n), base_key, n, tuple(members), g.asked, g.sent, 0,
                           tuple(contexts[x.index] for x in members))
        more.append(RenderJob(shot=members[0].model_copy(update={"id": f"{members[0].id} take {n}"}),
                              key=part_key(req.key, 0), base_key=base_key, take=n, price_per_second=price,
                              cost=round(g.seconds * price, 4), cached=False, context=contexts[members[0].index],
                              selected=True, group=req))
    return out, more


def part_key(group_key: str, position: int) -> str:
    """The cache key of one shot's part of a multi-shot clip (cut from the group's clip, at no cost)."""
    return digest({"group": group_key, "part": position})


def project_files(shot: CompiledShot, fields: dict) -> list[str]:
    """The project files a shot's render reads (its key covers their digests): cameo and reference
    images, keyframes, a file input reference, and what the backend draws from (`fields`: key_fields)."""
    return sorted({u.source for u in shot.characters if u.source and u.identity != "words"}
                  | set(shot.reference_images) | set(shot.keyframes)
                  | ({shot.input_reference.path} if shot.input_reference and shot.input_reference.path else set())
                  | set(fields.get("backend_fields", {}).get("assets", [])))


def take_key(base_key: str, take: int) -> str:
    """The cache key of one take of a request."""
    return digest({"base": base_key, "take": take})


@dataclass(frozen=True)
class Found:
    """What the cache holds of a request: its take counter, and the takes that have a clip, in order."""

    counted: int  # the highest take any run started (1 when none did)
    entries: dict[int, Entry]

    @property
    def numbers(self) -> list[int]:
        return list(self.entries)


def found_takes(cache: Cache, base_key: str) -> Found:
    """The request's take counter and its takes with a clip: one read of each (on a shared cache every
    read is a request to the bucket)."""
    counted = cache.take(base_key)
    entries = {n: e for n in range(1, counted + 1) if (e := cache.get(take_key(base_key, n))) is not None}
    n = counted + 1
    while (e := cache.get(take_key(base_key, n))) is not None:  # made by a run whose count was overtaken
        entries[n] = e
        n += 1
    return Found(counted, entries)


def _twins(jobs: list[RenderJob]) -> list[RenderJob]:
    """Shots whose requests are identical (one key) share one job: the first selected one renders
    it and is charged; the others are served its clip, at no cost."""
    owner: dict[str, str] = {}
    for j in jobs:
        if j.selected and not j.cached:
            owner.setdefault(j.key, j.shot.id)
    return [replace(j, twin_of=owner[j.key], cost=0.0) if owner.get(j.key, j.shot.id) != j.shot.id else j
            for j in jobs]


def _with_dependencies(shots: list[CompiledShot], select: set[str]) -> set[str]:
    by_id = {s.id: s for s in shots}
    out: set[str] = set()
    todo = [s for s in select if s in by_id]
    while todo:
        sid = todo.pop()
        if sid in out:
            continue
        out.add(sid)
        todo.extend(by_id[sid].depends_on)
    return out


def file_digester(root: Path) -> Callable[[str], str]:
    """A memoised sha256 of project files, for plan()."""
    memo: dict[str, str] = {}

    def digest(rel: str) -> str:
        if rel not in memo:
            memo[rel] = sha256_file(root / rel)
        return memo[rel]
    return digest
