"""The steps wired together (load, check, compile, plan, render, cut), for the CLI and library users."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from storyboard import catalog as capabilities
from storyboard.errors import Diagnostic, FormatError, SpendNotConfirmed, Stop, UsageError
from storyboard.media.probe import decodes
from storyboard.model.jobs import Plan, RenderJob, Event, Outcome, Prepared, Rendered
from storyboard.model.loaded import Loaded
from storyboard.stages import checks
from storyboard.stages.compiler import compile_storyboard
from storyboard.stages.continuity import fold
from storyboard.stages.loader import load
from storyboard.stages.planner import file_digester, plan
from storyboard.store.cache import Cache

if TYPE_CHECKING:  # the renderer and the cut pull in the media stack: imported when used
    from storyboard.store.budget import Budget
    from storyboard.cutting import CutResult
    from storyboard.model.jobs import Event, Outcome


# what a render writes into its output folder (a folder holding anything else is refused without --force)
OUTPUTS = ["final.mp4", "final.srt", "final.vtt", "final.edl", "final.xml", "timeline.otio", "manifest.json",
           "media", "review.html", "review", "boards.pdf", "shotlist.csv"]


def default_backend() -> str:
    """`animatic` unless the user's config names another: never spend money by surprise."""
    cfg = capabilities.user_config()
    return str(cfg.get("render", {}).get("backend", "animatic"))


def check(loaded: Loaded, backend: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for rendering `loaded` on a backend (the configured default when None):
    errors and warnings, against the capability table and the user's configured models."""
    caps = capabilities.get(backend or default_backend())
    return checks.for_backend(loaded, caps, capabilities.known_models())


def prepare(storyboard: str | Path | Loaded, backend: str | None = None) -> Prepared:
    """Load (unless given loaded), check against the backend, compile. FormatError lists every problem."""
    loaded = storyboard if isinstance(storyboard, Loaded) else load(storyboard)
    caps = capabilities.get(backend or default_backend())
    diags = check(loaded, caps.name)
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        raise FormatError(errors)
    contexts = fold(loaded.storyboard)
    shots = compile_storyboard(loaded, caps.name, contexts)
    return Prepared(loaded, caps, contexts, shots, [d for d in diags if d.severity != "error"])


def make_plan(prep: Prepared, cache: Cache | None = None, select: list[str] | tuple = (),
              new_take: bool = False, takes: int = 1) -> Plan:
    """Keys, cache hits and prices of every shot; spends nothing, touches no network (`takes`: make
    takes 1..N of the selected shots). A pinned take the request lacks is in `missing_takes` (see
    takes.pin_problems): the shot uses its latest take."""
    from storyboard import takes as takes_
    from storyboard.backends.registry import backend_class
    ids = {s.id for s in prep.shots}
    for sid in select:
        if sid not in ids:
            from storyboard.model.vocab import unknown
            raise UsageError("--shot: " + unknown("shot", sid, [s.id for s in prep.shots]))
    if takes < 1:
        raise UsageError("--takes must be at least 1")
    p = plan(prep.shots, prep.contexts, prep.caps.name, file_digester(prep.loaded.root), cache or Cache(),
             select, new_take, key_extra=backend_class(prep.caps.name).key_extra, pins=takes_.pins(prep), takes=takes)
    return p


def render_shots(prep: Prepared, plan: Plan | None = None, *, cache: Cache | None = None,
                 concurrency: int | None = None, max_cost: float | None = None,
                 confirm: Callable[[Plan], bool] | None = None,
                 on_event: Callable[["Event"], None] = lambda e: None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 select: list[str] | tuple = (), new_take: bool = False, takes: int = 1,
                 budget: "Budget | None" = None, cluster: Any = None) -> Rendered:
    """Render what the plan does not find in the cache; never makes the cut.

    `confirm(plan) -> bool` is asked before a paid backend spends anything; without a yes,
    SpendNotConfirmed is raised and nothing is spent. `clock` and `sleep` reach the backend
    (tests pass fakes, so no real back-off is waited out). A `budget` shared by several calls
    (the storyboards of one run) holds their --max-cost together; `max_cost` is then unused.
    `cluster`: a Dask client whose workers make the shots (storyboard.cluster); the rest stays here."""
    from storyboard.backends.base import create
    from storyboard.store.budget import Budget
    from storyboard.renderer import Renderer

    budget = budget or Budget(max_cost)  # a cap that caps nothing (nan, inf) is refused before anything else
    before = budget.spent
    cache = cache or Cache()
    p = plan or make_plan(prep, cache, select, new_take, takes)
    if p.total > 0 and (confirm is None or not confirm(p)):
        raise SpendNotConfirmed(p.backend, p.total)
    cache.sweep([j.key for j in p.jobs + p.extra])  # what killed runs left behind
    backend = create(prep.caps, cache, clock=clock, sleep=sleep)
    try:
        if cluster is None:
            renderer = Renderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                                concurrency or prep.caps.concurrency, budget, on_event)
        else:
            from storyboard.backends.registry import backend_class
            from storyboard.cluster import ClusterRenderer, slots
            renderer = ClusterRenderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                                       concurrency or slots(cluster), budget, on_event, client=cluster,
                                       key_extra=backend_class(prep.caps.name).key_extra)
        made = renderer.run()
    finally:
        backend.close()
    stop = next((o.error for o in made.values() if isinstance(o.error, Stop)), None)
    return Rendered(p, {j.shot.id: made[j.shot.id] for j in p.jobs}, budget.spent - before, stop,
                    {j.shot.id: made[j.shot.id] for j in p.extra})


def shot_warnings(prep: Prepared) -> dict[str, list[str]]:
    """What the checks and the compiler said about each shot (what plan and compile show)."""
    out: dict[str, list[str]] = {s.id: list(s.warnings) for s in prep.shots}
    for d in prep.warnings:
        if d.shot in out and d.message not in out[d.shot]:
            out[d.shot].append(d.message)
    return out


def cut(prep: Prepared, rendered: Rendered, out_dir: Path, *, loudness: float = -14.0,
        burn_subtitles: bool = False, on_step: Callable[[str], None] = lambda s: None,
        media_root: str | None = None, cache: Cache | None = None) -> "CutResult":
    """The final cut and every export in `out_dir` from rendered shots; the manifest is written first,
    so what was spent is never lost. A shot this run left without a clip keeps the latest take of its
    request, else the clip the last cut in `out_dir` used (rendered.outcomes is updated to say so),
    and only then stands as a slate. Then the review page, the boards and the shot list.
    `media_root`: the exports name media as absolute paths under this folder (exports.handoff.url)."""
    from storyboard import cutting
    from storyboard import takes as takes_
    from storyboard.exports import boards, review
    from storyboard.exports.handoff import check_media_root
    check_media_root(media_root)
    cache = cache or Cache()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered.outcomes = _checked_for_the_cut(takes_.keep_clips(rendered.outcomes, cache, takes_.last_cut(out_dir)))
    man = cutting.manifest(prep.loaded, prep.caps.name, rendered.outcomes, rendered.spent,
                           warnings=shot_warnings(prep))
    owner = {j.base_key: j.shot.id for j in rendered.plan.jobs}
    man["other_takes"] = [{"shot": owner[j.base_key], "take": j.take, "status": rendered.extra[j.shot.id].status,
                           "key": j.key, "cost": rendered.extra[j.shot.id].meta.get("cost", 0.0)}
                          for j in rendered.plan.extra if j.shot.id in rendered.extra]
    cutting.write_manifest(out_dir, man)
    result = cutting.make(prep.loaded, rendered.outcomes, out_dir, loudness=loudness,
                          burn_subtitles=burn_subtitles, on_step=on_step, media_root=media_root)
    result.files["manifest.json"] = out_dir / "manifest.json"
    for o in rendered.outcomes.values():
        if o.entry is not None and o.same_as is None:
            Cache.of(o.entry).seal_house_copies(o.entry)  # the conformed copies the cut made, checked next time
    on_step("writing the review page and boards")
    result.files.update(review.write(prep, rendered.plan, rendered.outcomes, out_dir, cache, spent=rendered.spent))
    result.files.update(boards.write(prep, rendered.plan, rendered.outcomes, out_dir, cache))
    return result


def _checked_for_the_cut(outcomes: dict[str, "Outcome"]) -> dict[str, "Outcome"]:
    """Every clip about to be cut, hashed again against its record (and its conformed copies): one
    that changed since it was served is moved aside and its shot becomes a slate saying so."""
    from dataclasses import replace
    out = dict(outcomes)
    problems: dict[str, str | None] = {}  # key -> what is wrong with its clip (twins share one)
    for sid, o in outcomes.items():
        if o.entry is None:
            continue
        key, cache = o.entry.key, Cache.of(o.entry)
        if key not in problems:
            problems[key] = cache.check(o.entry, rehash=True)
            if problems[key] is not None:
                cache.quarantine(key)
            else:
                o = out[sid] = replace(o, warnings=o.warnings + [f"a conformed copy was bad and is made again ({p})"
                                                                 for p in cache.check_house_copies(o.entry, decodes)])
        if problems[key] is not None:
            out[sid] = replace(o, status="failed", entry=None, reason=(
                f"its cached clip changed after it was checked ({problems[key]}) and was moved aside; "
                "run the same command again to fetch it again"))
    return out


def default_out(path: Path) -> Path:
    """A folder next to the storyboard named after it."""
    return path.parent / path.stem




def render(prep: Prepared, out_dir: Path | None = None, *, select: list[str] | tuple = (), new_take: bool = False,
           takes: int = 1, concurrency: int | None = None, max_cost: float | None = None, loudness: float = -14.0,
           burn_subtitles: bool = False, cache: Cache | None = None, confirm: Callable[[Plan], bool] | None = None,
           on_event=lambda e: None, on_step=lambda s: None,
           media_root: str | None = None, force: bool = False) -> tuple[Rendered, "CutResult"]:
    """render_shots, then cut, holding the output folder's one-writer lock throughout. An output
    folder holding files storyboard did not write is refused unless `force`."""
    cache = cache or Cache()
    batch = plan_batch([prep], cache, select, new_take, takes)
    (done,) = render_batch(batch, [Path(out_dir) if out_dir else default_out(prep.loaded.path)], cache=cache,
                           concurrency=concurrency, max_cost=max_cost, loudness=loudness,
                           burn_subtitles=burn_subtitles, confirm=(lambda b: confirm(b.items[0][1])) if confirm else None,
                           on_event=lambda i, e: on_event(e), on_step=lambda i, s: on_step(s), media_root=media_root,
                           force=force)
    return done


# -- review page, boards and takes, from the cache: nothing is rendered or spent -------------------

def pinned_take_problems(loaded: Loaded, backend: str | None = None) -> list[Diagnostic]:
    """For `validate`: a warning for each pinned take (`take: N`) its shot's current request does not
    have, on the backend (the configured one when None); the cut would use the latest take."""
    from storyboard import takes as takes_
    prep = prepare(loaded, backend)
    return takes_.pin_problems(prep, make_plan(prep))


def from_cache(prep: Prepared, out_dir: Path, cache: Cache) -> tuple[Plan, dict]:
    """The plan and each shot's outcome as the cache has them, with the clip the cut in `out_dir` keeps."""
    from storyboard import takes as takes_
    p = make_plan(prep, cache)
    last = takes_.last_cut(out_dir)
    return p, takes_.keep_clips(takes_.from_cache(p, cache, last), cache, last)


def review(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None,
           force: bool = False) -> dict[str, Path]:
    """Rebuild review.html and review/ in `out_dir` from the cache. A folder holding files storyboard
    did not write is refused unless `force`; a review/ that is a link to another folder always is."""
    from storyboard.exports import review as page
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    check_output_folder(out_dir, force, {page.FOLDER: page.NAMES})
    with folder_lock(out_dir):
        mark_output_folder(out_dir, [page.PAGE, page.FOLDER])
        p, outcomes = from_cache(prep, out_dir, cache)
        return page.write(prep, p, outcomes, out_dir, cache)


def boards(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None, grid: str = "2x3",
           paper: str = "a4", force: bool = False) -> dict[str, Path]:
    """Write boards.pdf and shotlist.csv in `out_dir` from the cache. A folder holding files
    storyboard did not write (a boards.pdf of your own) is refused unless `force`."""
    from storyboard.exports import boards as sheets
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder
    layout = sheets.Grid.parse(grid)
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    check_output_folder(out_dir, force)
    with folder_lock(out_dir):
        mark_output_folder(out_dir, [sheets.PDF, sheets.CSV])
        p, outcomes = from_cache(prep, out_dir, cache)
        return sheets.write(prep, p, outcomes, out_dir, cache, layout, paper)




# -- several storyboards in one run ----------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """Storyboards planned together (the episodes of a series): one plan to show, one total to
    confirm. A request two storyboards share is rendered once, by the first that has it."""

    items: list[tuple[Prepared, Plan]]

    @property
    def backend(self) -> str:
        return self.items[0][1].backend

    def first_with(self, key: str) -> int:
        """The index of the first storyboard that renders `key`."""
        return next(i for i, (_, p) in enumerate(self.items) if any(j.key == key for j in p.to_render))

    @property
    def to_render(self) -> list[tuple[int, RenderJob]]:
        """(storyboard index, job) of every request to render, each once."""
        seen: set[str] = set()
        out = []
        for i, (_, p) in enumerate(self.items):
            for j in p.to_render:
                if j.key not in seen:
                    seen.add(j.key)
                    out.append((i, j))
        return out

    @property
    def total(self) -> float:
        return round(sum(j.cost for _, j in self.to_render), 4)


def plan_batch(preps: list[Prepared], cache: Cache | None = None, select: list[str] | tuple = (),
               new_take: bool = False, takes: int = 1) -> Batch:
    """Plan every storyboard against one cache. `select` (--shot) names shots of any of them: an id
    none of them has is an error; a storyboard that has none of the ids renders nothing new."""
    from dataclasses import replace
    cache = cache or Cache()
    known = {s.id for prep in preps for s in prep.shots}
    for sid in select:
        if sid not in known:
            from storyboard.model.vocab import unknown
            raise UsageError("--shot: " + unknown("shot", sid, sorted(known)))
    items = []
    for prep in preps:
        mine = [sid for sid in select if any(s.id == sid for s in prep.shots)]
        if select and not mine:
            p = make_plan(prep, cache)
            p = replace(p, jobs=[replace(j, selected=False) for j in p.jobs], extra=[])
        else:
            p = make_plan(prep, cache, mine, new_take, takes)
        items.append((prep, p))
    return Batch(items)


def render_batch(batch: Batch, outs: list[Path], *, cache: Cache | None = None, concurrency: int | None = None,
                 max_cost: float | None = None, loudness: float = -14.0, burn_subtitles: bool = False,
                 confirm: Callable[[Batch], bool] | None = None,
                 on_event: Callable[[int, "Event"], None] = lambda i, e: None,
                 on_step: Callable[[int, str], None] = lambda i, s: None,
                 on_cut: Callable[[int, Rendered, "CutResult"], None] = lambda i, r, c: None,
                 media_root: str | None = None, force: bool = False,
                 cluster: Any = None) -> list[tuple[Rendered, "CutResult"]]:
    """Render and cut every storyboard of a batch, one after another, into its own folder.

    One confirmation for the batch's total; --max-cost and --concurrency hold for the whole run
    (never more than `concurrency` jobs at once, never more than `max_cost` spent in all). Every
    output folder is locked before anything is spent. A request an earlier storyboard rendered is
    a cache hit by the time a later one reaches it; one that failed there is not tried again.
    A stop (budget, quota...) ends the run: later storyboards are neither rendered nor cut. An
    output folder holding files storyboard did not write is refused unless `force`; what earlier
    runs left half-written in one is swept."""
    import contextlib
    from dataclasses import replace

    from storyboard.exports import review as page
    from storyboard.store.budget import Budget
    from storyboard.exports.handoff import check_media_root
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder, sweep
    from storyboard.model.jobs import Outcome
    check_media_root(media_root)  # before anything is spent
    budget = Budget(max_cost)  # one --max-cost for the run; nan and inf are refused here
    cache = cache or Cache()
    if len(outs) != len(batch.items):
        raise UsageError("one output folder per storyboard")
    if len({Path(o).resolve() for o in outs}) != len(outs):
        raise UsageError("two storyboards would write into the same output folder; give them different names")
    results: list[tuple[Rendered, "CutResult"]] = []
    with contextlib.ExitStack() as held:
        for out in outs:
            # before anything (even the lock file) is written there; review/ and media/ never links elsewhere
            check_output_folder(Path(out), force, {page.FOLDER: page.NAMES, "media": None})
        for out in outs:
            held.enter_context(folder_lock(Path(out)))
            mark_output_folder(Path(out), OUTPUTS)
            sweep(Path(out), (".*.part*", ".work-*"), everything=True)  # ours; no one else writes here now
        if batch.total > 0 and (confirm is None or not confirm(batch)):
            raise SpendNotConfirmed(batch.backend, batch.total)
        failed: dict[str, str] = {}  # key -> why, for requests that failed in an earlier storyboard
        for i, (prep, p) in enumerate(batch.items):
            jobs = []
            for j in p.jobs:
                if j.selected and not j.cached and cache.get(j.key) is not None:
                    j = replace(j, cached=True, cost=0.0)  # rendered by an earlier storyboard of the batch
                elif j.selected and not j.cached and j.key in failed:
                    j = replace(j, selected=False)
                jobs.append(j)
            rendered = render_shots(prep, replace(p, jobs=jobs), cache=cache, concurrency=concurrency, budget=budget,
                                    cluster=cluster,
                                    confirm=lambda _: True,  # confirmed as a batch; refreshing only lowers the cost
                                    on_event=lambda e, i=i: on_event(i, e))
            for j in p.jobs:
                o = rendered.outcomes[j.shot.id]
                if j.key in failed and o.entry is None:
                    rendered.outcomes[j.shot.id] = Outcome(o.job, "failed", reason=f"the same request failed in "
                                                           f"an earlier storyboard of this run: {failed[j.key]}")
                elif o.entry is None and o.status in ("failed", "blocked"):
                    failed.setdefault(j.key, o.reason)
            result = cut(prep, rendered, Path(outs[i]), loudness=loudness, burn_subtitles=burn_subtitles,
                         on_step=lambda s, i=i: on_step(i, s), media_root=media_root, cache=cache)
            mark_output_folder(Path(outs[i]), [f.name for f in result.files.values()])
            results.append((rendered, result))
            on_cut(i, rendered, result)
            if rendered.stop is not None:
                break
    return results
