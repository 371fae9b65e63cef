"""The steps wired together (load, check, compile, plan, render, cut), for the CLI and library users."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from storyboard import catalog as capabilities
from storyboard.errors import Diagnostic, FormatError, SpendNotConfirmed, Stop, UsageError
from storyboard.media.probe import decodes
from storyboard.model.caps import BackendCaps
from storyboard.model.compiled import CompiledShot
from storyboard.model.jobs import Entry, Event, Outcome, Plan, Prepared, Rendered, RenderJob
from storyboard.model.loaded import Loaded
from storyboard.model.options import CUT, PICK, PLAN, RENDER, RenderOptions
from storyboard.progress import Callbacks, Progress
from storyboard.stages import checks
from storyboard.stages.compiler import compile_storyboard
from storyboard.stages.continuity import fold
from storyboard.stages.loader import load
from storyboard.stages.planner import file_digester, plan as plan_jobs
from storyboard.store.cache import Cache

if TYPE_CHECKING:  # the renderer and the cut pull in the media stack: imported when used
    from storyboard.store.budget import Budget
    from storyboard.cutting import CutResult
    from storyboard.identity import Scorer


# what a render writes into its output folder (a folder holding anything else is refused without --force)
OUTPUTS = ["final.mp4", "final.srt", "final.vtt", "final.edl", "final.xml", "timeline.otio", "manifest.json",
           "media", "review.html", "review", "boards.pdf", "shotlist.csv", ".storyboard-cut.json"]


def default_backend() -> str:
    """`animatic` unless the user's config names another: never spend money by surprise."""
    cfg = capabilities.user_config()
    return str(cfg.get("render", {}).get("backend", "animatic"))


def check(loaded: Loaded, backend: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for rendering `loaded` on a backend (the configured default when None):
    errors and warnings, against the capability table and the user's configured models."""
    caps = capabilities.get(backend or default_backend())
    diags = checks.for_backend(loaded, caps, capabilities.known_models())
    if not any(d.severity == "error" for d in diags):  # the pre-spend check reads the compiled requests
        diags += pre_spend(loaded, caps, compile_storyboard(loaded, caps.name))
    return diags


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


def pre_spend(loaded: Loaded, caps: BackendCaps, shots: list[CompiledShot]) -> list[Diagnostic]:
    """The pre-spend check: the table's limits, and the backend's own hook when its code can be loaded."""
    from storyboard.backends.registry import backend_class
    try:
        hook = backend_class(caps.name).pre_spend
    except UsageError:  # its SDK is not installed: the render says so; the table's checks still run
        hook = None
    return checks.pre_spend(loaded, caps, shots, hook)


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
    p = plan_jobs(prep.shots, prep.contexts, prep.caps.name, file_digester(prep.loaded.root), cache or Cache(),
                  select, new_take, key_extra=backend_class(prep.caps.name).key_extra, pins=takes_.pins(prep),
                  takes=takes, groups=groups_of(prep))
    return p


def groups_of(prep: Prepared) -> list | None:
    """The multi-shot groups the storyboard asks for on its backend's model (None: every shot alone)."""
    from storyboard.stages import grouping
    sb = prep.loaded.storyboard
    if not grouping.wanted(sb):
        return None
    model, mcaps, _ = prep.caps.model(sb.defaults.model)
    if prep.caps.any_model:  # the animatic stands in for the named model: it groups as that model would
        mcaps = capabilities.known_models().get(sb.defaults.model, mcaps)
    return grouping.form(sb, mcaps, model)[0]


def plan(prep: Prepared, options: RenderOptions | None = None, *, cache: Cache | None = None,
         **changes) -> Plan:
    """storyboard.plan: keys, cache hits and prices of every shot; spends nothing, touches no network.
    Takes the plan's options (select, new_take, takes), as `options` or by name."""
    opts = RenderOptions.of(options, **changes)
    opts.refuse("plan", (RENDER, PICK, CUT), "pass it to render_shots, cut or render")
    return make_plan(prep, cache, opts.select, opts.new_take, opts.takes)


class _Calls(Progress):
    """A plain function as a progress callback: called with each shot's Event."""

    def __init__(self, fn: Callable[["Event"], None]):
        self.fn = fn

    def event(self, index: int, event) -> None:
        self.fn(event)


def as_progress(progress: "Progress | Callable[[Event], None] | None") -> Progress:
    """A Progress from what a caller gave: a Progress, a function of an Event, or nothing."""
    if progress is None:
        return Progress()
    if isinstance(progress, Progress):
        return progress
    if callable(progress):
        return _Calls(progress)
    raise UsageError(f"progress must be a storyboard.Progress or a function of an Event, not {type(progress).__name__}")


def render_shots(prep: Prepared, plan: Plan | None = None, options: RenderOptions | None = None, *,
                 cache: Cache | None = None, confirm: Callable[[Plan], bool] | None = None,
                 progress: "Progress | Callable[[Event], None] | None" = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 budget: "Budget | None" = None, scorer: "Scorer | None" = None, cluster: Any = None,
                 **changes) -> Rendered:
    """Render what the plan does not find in the cache; never makes the cut.

    Options (a RenderOptions, or by name): concurrency and max_cost; select, new_take and takes only
    when no plan is given (a given plan was made with its own). An option this step would ignore is
    a UsageError. `confirm(plan) -> bool` is asked before a paid backend spends anything; without a
    yes, SpendNotConfirmed is raised and nothing is spent. `progress` is told of every shot.
    `clock` and `sleep` reach the backend (tests pass fakes, so no real back-off is waited out).
    A `budget` shared by several calls (the storyboards of one run) holds their max_cost together. A
    `scorer` (identity.Scorer) is handed each clip as it is served or made, to find its faces alongside.
    `cluster`: a Dask client whose workers make the shots (storyboard.cluster); the rest stays here."""
    opts = RenderOptions.of(options, **changes)
    opts.refuse("render_shots", (PICK, CUT), "it never cuts nor picks takes; pass it to cut or render")
    if plan is not None:
        opts.refuse("render_shots with a plan", (PLAN,), "the plan was made without it; pass it to plan")
    if budget is not None and opts.max_cost is not None:
        raise UsageError("render_shots takes max_cost or a budget, not both (the budget holds its own cap)")
    cache = cache or Cache()
    p = plan or make_plan(prep, cache, opts.select, opts.new_take, opts.takes)
    shown = as_progress(progress)
    shown.start(len(p.jobs) + len(p.extra), [prep.loaded.path.stem])
    try:
        return _render(prep, p, opts, cache, confirm, lambda e: shown.event(0, e), clock, sleep, budget, scorer,
                       cluster)
    finally:
        shown.close()


def _render(prep: Prepared, p: Plan, opts: RenderOptions, cache: Cache, confirm: Callable[[Plan], bool] | None,
            on_event: Callable[["Event"], None], clock: Callable[[], float] = time.time,
            sleep: Callable[[float], None] = time.sleep, budget: "Budget | None" = None,
            scorer: "Scorer | None" = None, cluster: Any = None) -> Rendered:
    from storyboard import identity
    from storyboard.backends.base import deferred
    from storyboard.store.budget import Budget
    from storyboard.renderer import Renderer

    budget = budget or Budget(opts.max_cost)  # a cap that caps nothing (nan, inf) is refused before anything else
    before = budget.spent
    if p.total > 0 and (confirm is None or not confirm(p)):
        raise SpendNotConfirmed(p.backend, p.total)
    cache.sweep([j.key for j in p.jobs + p.extra])  # what killed runs left behind
    backend = deferred(prep.caps, cache, clock=clock, sleep=sleep)
    try:
        def on_clip(o: Outcome) -> None:
            refs = scorer and identity.checked_references(prep.loaded.root, prep.loaded.storyboard, o.job.context)
            if refs:
                scorer.submit(o.entry, refs)
        if cluster is None:
            renderer = Renderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                                opts.concurrency or prep.caps.concurrency, budget, on_event, on_clip=on_clip)
        else:
            from storyboard.backends.registry import backend_class
            from storyboard.cluster import ClusterRenderer, slots
            renderer = ClusterRenderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                                       opts.concurrency or slots(cluster), budget, on_event, on_clip=on_clip,
                                       client=cluster, key_extra=backend_class(prep.caps.name).key_extra)
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


def cut(prep: Prepared, rendered: Rendered, out_dir: str | Path, options: RenderOptions | None = None, *,
        cache: Cache | None = None, progress: "Progress | Callable[[Event], None] | None" = None,
        **changes) -> "CutResult":
    """The final cut and every export in `out_dir` from rendered shots, holding the folder's one-writer
    lock; a folder holding files storyboard did not write is refused unless `force` (as the command
    line does). Options (a RenderOptions, or by name): loudness, burn_subtitles, media_root, force;
    one this step would ignore is a UsageError. `progress` is told each step of the cut."""
    opts = RenderOptions.of(options, **changes)
    opts.refuse("cut", (PLAN, RENDER, PICK), "the shots are rendered already; pass it to plan, render_shots or render")
    shown = as_progress(progress)
    try:
        with _output_folders([Path(out_dir)], opts):
            return _cut(prep, rendered, Path(out_dir), opts, cache, lambda s: shown.step(0, s))
    finally:
        shown.close()


def _cut(prep: Prepared, rendered: Rendered, out_dir: Path, opts: RenderOptions, cache: Cache | None = None,
         on_step: Callable[[str], None] = lambda s: None) -> "CutResult":
    """The cut into a folder the caller holds (locked, checked and marked by _output_folders).
    The manifest is written first, so what was spent is never lost. A shot this run left without a
    clip keeps the latest take of its request, else the clip the last cut in `out_dir` used
    (rendered.outcomes is updated to say so), and only then stands as a slate. Then the review page,
    the boards and the shot list. `media_root`: the exports name media as absolute paths under this
    folder (exports.handoff.url)."""
    from storyboard import cutting
    from storyboard import takes as takes_
    from storyboard.exports import boards, review
    from storyboard.exports.handoff import check_media_root
    from storyboard.exports.sheet import build_sheet
    from storyboard.store.files import mark_output_folder
    check_media_root(opts.media_root)
    cache = cache or Cache()
    out_dir.mkdir(parents=True, exist_ok=True)
    last = takes_.last_cut(out_dir)
    rendered.outcomes = _checked_for_the_cut(takes_.keep_clips(takes_.keep_picks(rendered.outcomes, cache, last),
                                                                cache, last))
    man = cutting.manifest(prep.loaded, prep.caps.name, rendered.outcomes, rendered.spent,
                           warnings=shot_warnings(prep))
    owner = {j.base_key: j.shot.id for j in rendered.plan.jobs}
    man["other_takes"] = [{"shot": owner.get(o.job.base_key, name.rsplit(" take ", 1)[0]), "take": o.job.take,
                           "status": o.status, "key": o.job.key, "cost": o.meta.get("cost", 0.0)}
                          for name, o in rendered.extra.items()]
    _identity_in_manifest(prep, rendered.outcomes, man, cache)
    sound = cutting.last_sound(out_dir)  # final.mp4's as it stands until the cut measures it again, so an
    if sound:  # unchanged re-run finds the manifest as it was and writes it not even once
        man["sound"] = sound
    cutting.write_manifest(out_dir, man)
    result = cutting.make(prep.loaded, rendered.outcomes, out_dir, loudness=opts.loudness,
                          burn_subtitles=opts.burn_subtitles, on_step=on_step, media_root=opts.media_root)
    man["sound"] = cutting.sound_record(result, opts.loudness)
    cutting.write_manifest(out_dir, man)  # again, with the cut's measured loudness
    result.files["manifest.json"] = out_dir / "manifest.json"
    made = [o.entry for o in rendered.outcomes.values() if o.entry is not None and o.same_as is None]
    if made:  # the conformed copies the cut made, checked next time
        Cache.of(made[0]).each(lambda e: Cache.of(e).seal_house_copies(e), made)
    on_step("writing the review page and boards")
    sheet = build_sheet(prep, rendered.plan, rendered.outcomes, cache, rendered.spent)  # one read of every take
    result.files.update(review.write(prep, rendered.plan, rendered.outcomes, out_dir, cache, sheet=sheet))
    result.files.update(boards.write(prep, rendered.plan, rendered.outcomes, out_dir, cache, sheet=sheet))
    mark_output_folder(out_dir, [f.name for f in result.files.values()])
    return replace(result, rendered=rendered)


def _output_folders(outs: list[Path], opts: RenderOptions):
    """Every output folder checked (one holding files storyboard did not write is refused unless
    `force`), then locked, marked as ours and swept of what earlier runs left half-written, before
    anything is spent or written: a context manager holding the locks."""
    import contextlib

    from storyboard.exports import review as page
    from storyboard.exports.handoff import check_media_root
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder, sweep
    check_media_root(opts.media_root)  # before anything is spent
    if len({Path(o).resolve() for o in outs}) != len(outs):
        raise UsageError("two storyboards would write into the same output folder; give them different names")
    held = contextlib.ExitStack()
    with contextlib.ExitStack() as undo:
        undo.enter_context(held)  # released if anything below fails; kept (popped) when all is held
        for out in outs:
            # before anything (even the lock file) is written there; review/ and media/ never link elsewhere
            check_output_folder(Path(out), opts.force, {page.FOLDER: page.NAMES, "media": None})
        for out in outs:
            held.enter_context(folder_lock(Path(out)))
            mark_output_folder(Path(out), OUTPUTS)
            sweep(Path(out), (".*.part*", ".work-*"), everything=True)  # ours; no one else writes here now
        undo.pop_all()
    return held


def _identity_in_manifest(prep: Prepared, outcomes: dict[str, "Outcome"], man: dict, cache: Cache) -> None:
    """Each shot's identity scores in the manifest (the clips were scored alongside the renders), and
    whether its take was chosen by them."""
    from dataclasses import asdict

    from storyboard.identity import Judge
    judge = Judge(prep.loaded.root, prep.loaded.storyboard, cache)
    ctxs = {c.shot.id: c for c in prep.contexts}
    for row in man["shots"]:
        o, ctx = outcomes[row["id"]], ctxs[row["id"]]
        score = judge.score(o.entry, ctx, row["id"], o.job.take) if o.entry is not None else None
        row["identity"] = None if score is None else [
            {k: v for k, v in asdict(c).items() if k != "face"} for c in score.characters]
        row["chosen_by"] = o.chosen_by or None


def _checked_for_the_cut(outcomes: dict[str, "Outcome"]) -> dict[str, "Outcome"]:
    """Every clip about to be cut, hashed again against its record (and its conformed copies): one
    that changed since it was served is moved aside and its shot becomes a slate saying so. Twins
    share one check; on a bucket several clips are checked at once (each check reads it)."""
    from dataclasses import replace
    firsts: dict[str, Entry] = {}
    for o in outcomes.values():
        if o.entry is not None:
            firsts.setdefault(o.entry.key, o.entry)
    if not firsts:
        return dict(outcomes)

    def check(entry: Entry) -> tuple[str | None, list[str]]:
        cache = Cache.of(entry)
        problem = cache.check(entry, rehash=True)
        if problem is not None:
            cache.quarantine(entry.key)
            return problem, []
        return None, cache.check_house_copies(entry, decodes)
    found = dict(zip(firsts, Cache.of(next(iter(firsts.values()))).each(check, list(firsts.values()))))
    out = dict(outcomes)
    told: set[str] = set()  # a remade copy is told once, on the first shot of its clip
    for sid, o in outcomes.items():
        if o.entry is None:
            continue
        problem, remade = found[o.entry.key]
        if problem is None and o.entry.key in told:
            continue
        told.add(o.entry.key)
        if problem is not None:
            out[sid] = replace(o, status="failed", entry=None, reason=(
                f"its cached clip changed after it was checked ({problem}) and was moved aside; "
                "run the same command again to fetch it again"))
        elif remade:
            out[sid] = replace(o, warnings=o.warnings + [f"a conformed copy was bad and is made again ({p})"
                                                         for p in remade])
    return out


def default_out(path: Path) -> Path:
    """A folder next to the storyboard named after it."""
    return path.parent / path.stem




def render(storyboard: "str | Path | Loaded | Prepared", out: str | Path | None = None,
           options: RenderOptions | None = None, *, backend: str | None = None, cache: Cache | None = None,
           confirm: Callable[[Plan], bool] | None = None,
           progress: "Progress | Callable[[Event], None] | None" = None, **changes) -> "CutResult":
    """storyboard.render: the one safe call, as `storyboard render` does it. Load and compile (unless
    given prepared), plan, render and cut into `out` (default: a folder next to the storyboard named
    after it), holding that folder's one-writer lock throughout; a folder holding files storyboard did
    not write is refused unless `force`. Every option (a RenderOptions, or by name) applies.
    `confirm(plan) -> bool` is asked before money is spent. Returns the CutResult; its `rendered`
    says what became of each shot."""
    if isinstance(storyboard, Prepared):
        if backend is not None and backend != storyboard.caps.name:
            raise UsageError(f"the storyboard was compiled for {storyboard.caps.name}, not {backend}; compile it "
                             "again for that backend, or pass the file")
        prep = storyboard
    else:
        prep = prepare(storyboard, backend)
    opts = RenderOptions.of(options, **changes)
    cache = cache or Cache()
    batch = plan_batch([prep], opts, cache=cache)
    (done,) = render_batch(batch, [Path(out) if out else default_out(prep.loaded.path)], opts, cache=cache,
                           confirm=(lambda b: confirm(b.items[0][1])) if confirm else None, progress=progress)
    return done[1]


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
    return p, takes_.keep_clips(takes_.keep_picks(takes_.from_cache(p, cache, last), cache, last), cache, last)


def review(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None,
           force: bool = False) -> dict[str, Path]:
    """Rebuild review.html and review/ in `out_dir` from the cache. A folder holding files storyboard
    did not write is refused unless `force`; a review/ that is a link to another folder always is."""
    from storyboard.exports import review as page
    from storyboard.exports.record import STATE
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    check_output_folder(out_dir, force, {page.FOLDER: page.NAMES})
    with folder_lock(out_dir):
        mark_output_folder(out_dir, [page.PAGE, page.FOLDER, STATE])  # STATE: the record of what shaped them
        p, outcomes = from_cache(prep, out_dir, cache)
        return page.write(prep, p, outcomes, out_dir, cache)


def boards(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None, grid: str = "2x3",
           paper: str = "a4", force: bool = False) -> dict[str, Path]:
    """Write boards.pdf and shotlist.csv in `out_dir` from the cache. A folder holding files
    storyboard did not write (a boards.pdf of your own) is refused unless `force`."""
    from storyboard.exports import boards as sheets
    from storyboard.exports.record import STATE
    from storyboard.store.files import check_output_folder, folder_lock, mark_output_folder
    layout = sheets.Grid.parse(grid)
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    check_output_folder(out_dir, force)
    with folder_lock(out_dir):
        mark_output_folder(out_dir, [sheets.PDF, sheets.CSV, STATE])  # STATE: the record of what shaped them
        p, outcomes = from_cache(prep, out_dir, cache)
        return sheets.write(prep, p, outcomes, out_dir, cache, layout, paper)




def recut(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None,
          on_step: Callable[[str], None] = lambda s: None) -> tuple[Rendered, "CutResult"]:
    """The cut and every export made again from what the cache holds, rendering and spending nothing
    (a take pinned, a note written): each shot keeps its pinned or latest take, else stands as a slate."""
    from dataclasses import replace
    cache = cache or Cache()
    p = make_plan(prep, cache)
    p = replace(p, jobs=[replace(j, selected=False) for j in p.jobs], extra=[])
    (done,) = render_batch(Batch([(prep, p)]), [Path(out_dir) if out_dir else default_out(prep.loaded.path)],
                           cache=cache, progress=Callbacks(step=lambda i, s: on_step(s)))
    return done


def pin_take(prep: Prepared, shot_id: str, take: int | None, cache: Cache | None = None,
             expect: str | None = None) -> Path:
    """Pin take `take` of a shot (None: unpin) in the file that defines it, only a take its current
    request has; `expect`: the file's digest the caller saw (a file changed since is refused).
    Renders nothing; the next cut (`recut`) uses the take."""
    from storyboard import pinning
    from storyboard import takes as takes_
    cache = cache or Cache()
    if take is not None and any(s.id == shot_id for s in prep.shots):
        job = make_plan(prep, cache).job(shot_id)
        made = [t.number for t in takes_.list_takes(cache, job.base_key) if t.status == "made"]
        if take not in made:
            has = f"it has take{'s' * (len(made) > 1)} {', '.join(map(str, made))}" if made else "it has no takes yet"
            raise UsageError(f"shot '{shot_id}' has no take {take} of its current request ({has}); nothing was written")
    return pinning.pin(prep.loaded, shot_id, take, expect)


def select_by_review(preps: list[Prepared], status: str) -> list[str]:
    """The shots of these storyboards whose review status (in each one's NAME.review.yaml, written by
    `storyboard serve`) is `status`: what `render --approved` and `render --status retake` render."""
    from storyboard import notes
    chosen: list[str] = []
    for prep in preps:
        chosen += notes.load(prep.loaded.path).select([s.id for s in prep.shots], status)
    if not chosen:
        names = ", ".join(notes.sidecar(p.loaded.path).name for p in preps)
        raise UsageError(f"no shot is marked {status} in {names}; mark shots in `storyboard serve` "
                         f"(or write `status: {status}` under a shot there), or render without the filter")
    return chosen


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


def plan_batch(preps: list[Prepared], options: RenderOptions | None = None, *, cache: Cache | None = None,
               **changes) -> Batch:
    """Plan every storyboard against one cache with the plan's options (select, new_take, takes; the
    others are render_batch's). `select` (--shot) names shots of any of them: an id none of them has
    is an error; a storyboard that has none of the ids renders nothing new."""
    opts = RenderOptions.of(options, **changes)
    select, new_take, takes = opts.select, opts.new_take, opts.takes
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


def render_batch(batch: Batch, outs: list[Path], options: RenderOptions | None = None, *,
                 cache: Cache | None = None, confirm: Callable[[Batch], bool] | None = None,
                 progress: "Progress | Callable[[Event], None] | None" = None,
                 cluster: Any = None, **changes) -> list[tuple[Rendered, "CutResult"]]:
    """Render and cut every storyboard of a batch, one after another, into its own folder, with the
    render's and the cut's options (the plan's were the batch's: plan_batch took them).
    `cluster`: a Dask client whose workers make the shots (see render_shots).

    One confirmation for the batch's total; max_cost and concurrency hold for the whole run
    (never more than `concurrency` jobs at once, never more than `max_cost` spent in all). Every
    output folder is locked before anything is spent. A request an earlier storyboard rendered is
    a cache hit by the time a later one reaches it; one that failed there is not tried again.
    A stop (budget, quota...) ends the run: later storyboards are neither rendered nor cut. An
    output folder holding files storyboard did not write is refused unless `force`; what earlier
    runs left half-written in one is swept. `progress` hears of every shot and every cut.

    Every clip a paid backend makes is scored for identity alongside (with the extra installed).
    `pick="identity"` puts each shot's best-scoring take in the cut; `retake_drift` makes up to that
    many more takes of each shot whose takes all drift or miss a character (within max_cost), then
    picks by identity too."""
    from dataclasses import replace

    from storyboard.store.budget import Budget
    from storyboard.model.jobs import Outcome
    from storyboard import identity
    opts = RenderOptions.of(options, **changes)
    check_identity_options(opts.pick, opts.retake_drift, batch.backend)
    budget = Budget(opts.max_cost)  # one --max-cost for the run; nan and inf are refused here
    cache = cache or Cache()
    shown = as_progress(progress)
    if len(outs) != len(batch.items):
        raise UsageError("one output folder per storyboard")
    results: list[tuple[Rendered, "CutResult"]] = []
    try:
        with _output_folders([Path(o) for o in outs], opts) as held:
            if batch.total > 0 and (confirm is None or not confirm(batch)):
                raise SpendNotConfirmed(batch.backend, batch.total)
            scorer = held.enter_context(identity.Scorer(cache)) if batch.backend not in identity.NOT_SCORED_BACKENDS \
                else None
            failed: dict[str, str] = {}  # key -> why, for requests that failed in an earlier storyboard
            for i, (prep, p) in enumerate(batch.items):
                jobs = []
                for j in p.jobs:
                    if j.selected and not j.cached and cache.get(j.key) is not None:
                        j = replace(j, cached=True, cost=0.0)  # rendered by an earlier storyboard of the batch
                    elif j.selected and not j.cached and j.key in failed:
                        j = replace(j, selected=False)
                    jobs.append(j)
                if i == 0:
                    shown.start(sum(len(q.jobs) + len(q.extra) for _, q in batch.items),
                                [pp.loaded.path.stem for pp, _ in batch.items])
                rendered = _render(prep, replace(p, jobs=jobs), opts, cache,
                                   confirm=lambda _: True,  # confirmed as a batch; refreshing only lowers the cost
                                   on_event=lambda e, i=i: shown.event(i, e), budget=budget, scorer=scorer,
                                   cluster=cluster)
                for j in p.jobs:
                    o = rendered.outcomes[j.shot.id]
                    if j.key in failed and o.entry is None:
                        rendered.outcomes[j.shot.id] = Outcome(o.job, "failed", reason=f"the same request failed in "
                                                               f"an earlier storyboard of this run: {failed[j.key]}")
                    elif o.entry is None and o.status in ("failed", "blocked"):
                        failed.setdefault(j.key, o.reason)
                if scorer is not None and scorer.enabled:
                    shown.step(i, "checking faces against the references")
                    scorer.wait(on_error=lambda msg, i=i: shown.step(i, msg))
                    if opts.retake_drift and rendered.stop is None:
                        _retake_drift(prep, rendered, cache, budget, scorer, opts,
                                      lambda e, i=i: shown.event(i, e))
                    if opts.pick == "identity" or opts.retake_drift:
                        from storyboard import takes as takes_
                        takes_.pick_by_identity(prep, rendered, cache)
                result = _cut(prep, rendered, Path(outs[i]), opts, cache, on_step=lambda s, i=i: shown.step(i, s))
                results.append((rendered, result))
                shown.cut(i, rendered, result)
                if rendered.stop is not None:
                    break
    finally:
        shown.close()
    return results


# -- identity: scoring, picking and retaking by it -----------------------------------------------------

PICKS = ("identity",)


def check_identity_options(pick: str | None, retake_drift: int, backend: str) -> None:
    """--pick and --retake-drift make sense only where faces can be found and are filmed: said before
    anything is spent."""
    from storyboard import identity
    if pick is not None and pick not in PICKS:
        raise UsageError(f"--pick {pick!r}: the one way to pick is 'identity'")
    if retake_drift < 0:
        raise UsageError("--retake-drift must be zero or more takes")
    if not (pick or retake_drift):
        return
    flag = "--pick identity" if pick else "--retake-drift"
    if backend in identity.NOT_SCORED_BACKENDS:
        raise UsageError(f"{flag}: the {backend} backend draws its characters; there are no faces to compare")
    why = identity.unavailable()
    if why:
        raise UsageError(f"{flag}: {why}")


def drifting(prep: Prepared, rendered: Rendered, cache: Cache, judge=None) -> list[str]:
    """Shots no made take of which is free of drift and missing characters (a shot a continuous shot
    starts from, a pinned one and a twin are left as they are)."""
    from storyboard import identity
    from storyboard import takes as takes_
    judge = judge or identity.Judge(prep.loaded.root, prep.loaded.storyboard, cache)
    keep = takes_.continued(prep)
    out = []
    for ctx in prep.contexts:
        sid = ctx.shot.id
        o = rendered.outcomes.get(sid)
        if o is None or o.entry is None or o.job.pinned or o.same_as or sid in keep:
            continue
        scores = [judge.score(t.entry, ctx, sid, t.number)
                  for t in takes_.list_takes(cache, o.job.base_key) if t.entry is not None]
        scores = [sc for sc in scores if sc is not None and sc.characters]
        if scores and all(sc.flagged for sc in scores):
            out.append(sid)
    return out


def _retake_drift(prep: Prepared, rendered: Rendered, cache: Cache, budget, scorer, opts: RenderOptions,
                  on_event) -> None:
    """Up to `k` more takes of each drifting shot, one round at a time (a shot stops once a take is good),
    under the run's budget. New takes land in `rendered.extra` (and their cost in `rendered.spent`);
    pick_by_identity then chooses. A take --max-cost cannot pay for is not made, and is not a stop."""
    from dataclasses import replace

    from storyboard.errors import BudgetExceeded
    for _ in range(opts.retake_drift):
        shots = drifting(prep, rendered, cache)
        if not shots:
            return
        p2 = make_plan(prep, cache, shots, new_take=True)
        r2 = _render(prep, p2, opts, cache, confirm=lambda _: True, on_event=on_event, budget=budget, scorer=scorer)
        scorer.wait()
        rendered.spent = round(rendered.spent + r2.spent, 4)
        for sid in shots:
            o2 = r2.outcomes[sid]
            if o2.status in ("rendered", "failed", "blocked") or o2.spent or o2.unconfirmed:
                name = f"{sid} take {o2.job.take}"
                rendered.extra[name] = replace(o2, job=replace(o2.job, shot=o2.job.shot.model_copy(update={"id": name})))
        if r2.stop is not None:
            if not isinstance(r2.stop, BudgetExceeded):
                rendered.stop = r2.stop
            return


def retake_reserve(batch: Batch, k: int) -> float:
    """The most `--retake-drift k` could add to the batch's spend: k more takes of every selected shot
    that could drift (each at its price), before a single one is known to."""
    if k <= 0:
        return 0.0
    from storyboard import identity
    from storyboard import takes as takes_
    if batch.backend in identity.NOT_SCORED_BACKENDS:
        return 0.0
    total = 0.0
    for prep, p in batch.items:
        keep = takes_.continued(prep)
        for j in p.jobs:
            if j.selected and not j.pinned and j.twin_of is None and j.shot.id not in keep:
                total += k * round(j.shot.seconds * j.price_per_second, 4)
    return round(total, 4)


def identity_report(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None,
                    on_clip: Callable[[str, int], None] = lambda shot, take: None) -> list[dict]:
    """Every made take of every shot's current request, scored against the references (faces found now
    for clips the cache has no record of): per shot, its takes, which one the cut in `out_dir` uses, and
    each checked character's verdict. Renders and spends nothing. UsageError without the extra."""
    from dataclasses import asdict

    from storyboard import identity
    from storyboard import takes as takes_
    why = identity.unavailable()
    if why:
        raise UsageError(f"identity: {why}")
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    p, outcomes = from_cache(prep, out_dir, cache)
    judge = identity.Judge(prep.loaded.root, prep.loaded.storyboard, cache)
    last = takes_.last_cut(out_dir)
    rows = []
    for ctx in prep.contexts:
        sid = ctx.shot.id
        o = outcomes[sid]
        checked = [c.id for c in ctx.on_screen if identity.checked(prep.loaded.storyboard, c.id)]
        no_ref = [cid for cid in checked if not (judge.reference(cid) and judge.reference(cid).descriptors)]
        takes = []
        for t in takes_.list_takes(cache, p.job(sid).base_key):
            if t.entry is None:
                continue
            on_clip(sid, t.number)
            score = judge.score(t.entry, ctx, sid, t.number)
            takes.append({"take": t.number, "in_cut": o.entry is not None and o.entry.key == t.key,
                          "key": t.key, "scored": score is not None,
                          "chosen_by": last.get(sid, {}).get("chosen_by") if o.entry is not None
                          and o.entry.key == t.key else None,
                          "characters": [{k: v for k, v in asdict(c).items() if k != "face"}
                                         for c in (score.characters if score else [])]})
        why = ""
        if p.backend in identity.NOT_SCORED_BACKENDS:
            why = "the animatic draws its characters: no faces to compare"
        elif not checked:
            why = "no on-screen character whose face is checked"
        elif len(no_ref) == len(checked):
            why = "no reference face for " + ", ".join(no_ref)
        rows.append({"shot": sid, "framing": ctx.shot.camera.framing, "backend": p.backend, "not_scored": why,
                     "takes": takes})
    return rows


def reference_warnings(loaded: Loaded, cache: Cache | None = None) -> list[Diagnostic]:
    """For `validate`: a reference (still or cameo) of a character whose face is checked in which no face
    is found, placed at the field that names it. [] without the extra (nothing can be looked at)."""
    from storyboard import identity
    if identity.unavailable():
        return []
    cache = cache or Cache()
    sb = loaded.storyboard
    out = []
    for cid, c in sb.characters.items():
        if not identity.checked(sb, cid) or not identity.reference_files(sb, cid):
            continue
        ref = identity.reference(loaded.root, sb, cid, cache)
        for rel in (ref.faceless if ref else []):
            field_ = "reference" if rel == c.reference else "cameo"
            out.append(loaded.positions.diag(
                ("characters", cid, field_),
                f"character '{cid}': no face found in {rel}, so their shots cannot be checked against it; use a "
                "picture with their face clear and frontal, or add `identity: false` if they have no face to check",
                severity="warning"))
    return out
