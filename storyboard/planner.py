"""CompiledShot -> RenderJob: content keys, takes, cache hits and what each shot costs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from storyboard.backends import capabilities
from storyboard.cache import Cache
from storyboard.common import digest
from storyboard.continuity import ShotContext
from storyboard.model.compiled import CompiledShot

KeyExtra = Callable[[CompiledShot, ShotContext], dict]  # a backend's own cache-key fields

KEY_VERSION = 2  # 2: backend fields apart from the request


@dataclass(frozen=True)
class RenderJob:
    shot: CompiledShot
    key: str  # everything that shapes the clip, the take included
    base_key: str  # the same without the take: what takes are counted under
    take: int
    price_per_second: float
    cost: float  # dollars if rendered now; 0 when cached
    cached: bool
    context: ShotContext  # the shot's continuity: who is on screen, wearing what, where
    selected: bool = True  # false: not asked for by --shot (still planned, for its key)
    twin_of: str | None = None  # an earlier shot with the identical request: its one job serves both


@dataclass(frozen=True)
class Plan:
    backend: str
    jobs: list[RenderJob] = field(default_factory=list)

    @property
    def to_render(self) -> list[RenderJob]:
        return [j for j in self.jobs if j.selected and not j.cached and j.twin_of is None]

    @property
    def total(self) -> float:
        return round(sum(j.cost for j in self.to_render), 4)


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
         cache: Cache, select: Iterable[str] = (), new_take: bool = False, key_extra: KeyExtra | None = None) -> Plan:
    """Keys, takes, hits and prices for every shot. `asset_digest` turns a project path into its sha256;
    `key_extra` is the backend's own key fields (project files it reads are listed under "assets").

    A continuous shot's key includes its predecessor's key, which stands for the predecessor's last
    frame: the same key always means the same cached clip, hence the same frame."""
    caps = capabilities.get(backend)
    select = set(select)
    chosen = _with_dependencies(shots, select) if select else {s.id for s in shots}
    renew = (select or {s.id for s in shots}) if new_take else set()
    keys: dict[str, str] = {}
    jobs: list[RenderJob] = []
    for shot in shots:
        _, mcaps, _ = caps.model(shot.model)
        ctx = contexts[shot.index]
        fields = key_fields(shot, ctx, caps.exact_duration, key_extra)
        refs = sorted({u.source for u in shot.characters if u.source and u.identity != "words"}
                      | set(shot.reference_images)
                      | ({shot.input_reference.path} if shot.input_reference and shot.input_reference.path else set())
                      | set(fields.get("backend_fields", {}).get("assets", [])))
        fields["reference_digests"] = {r: asset_digest(r) for r in refs}
        fields["previous"] = keys.get(shot.input_reference.shot) if shot.input_reference and shot.input_reference.shot else None
        if fields["previous"] is None and shot.depends_on:
            fields["previous"] = keys.get(shot.depends_on[0])
        base_key = digest({"v": KEY_VERSION, **fields})
        take = cache.take(base_key)
        if shot.id in renew:
            take += 1
        key = digest({"base": base_key, "take": take})
        keys[shot.id] = key
        price = mcaps.price_per_second(shot.size)
        cached = cache.get(key) is not None
        jobs.append(RenderJob(shot=shot, key=key, base_key=base_key, take=take, price_per_second=price,
                              cost=0.0 if cached else round(shot.seconds * price, 4), cached=cached,
                              context=ctx, selected=shot.id in chosen))
    return Plan(backend=caps.name, jobs=_twins(jobs))


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
    from storyboard.fsutil import sha256_file
    memo: dict[str, str] = {}

    def digest(rel: str) -> str:
        if rel not in memo:
            memo[rel] = sha256_file(root / rel)
        return memo[rel]
    return digest
