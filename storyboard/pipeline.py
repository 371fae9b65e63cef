"""The steps wired together (load, check, compile, plan, render, cut), for the CLI and library users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard import checks
from storyboard.backends import capabilities
from storyboard.backends.capabilities import BackendCaps
from storyboard.cache import Cache
from storyboard.compiler import compile_storyboard
from storyboard.errors import Diagnostic, FormatError, UsageError
from storyboard.loader import Loaded, load
from storyboard.model.compiled import CompiledShot
from storyboard.planner import Plan, file_digester, plan


@dataclass(frozen=True)
class Prepared:
    loaded: Loaded
    caps: BackendCaps
    shots: list[CompiledShot]
    warnings: list[Diagnostic]


def default_backend() -> str:
    """`animatic` unless the user's config names another: never spend money by surprise."""
    cfg = capabilities.user_config()
    return str(cfg.get("render", {}).get("backend", "animatic"))


def prepare(path: str | Path, backend: str | None = None) -> Prepared:
    """Load, check against the backend, compile. Raises FormatError with every problem."""
    loaded = load(path)
    caps = capabilities.get(backend or default_backend())
    diags = checks.for_backend(loaded, caps)
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        raise FormatError(errors)
    shots = compile_storyboard(loaded, caps.name)
    return Prepared(loaded, caps, shots, [d for d in diags if d.severity != "error"])


def make_plan(prep: Prepared, cache: Cache | None = None, select: list[str] | tuple = (),
              new_take: bool = False, takes: int = 1, check_pins: bool = True) -> Plan:
    """The plan, or FormatError if a pinned take does not exist (`takes`: make takes 1..N of the selected shots)."""
    from storyboard import takes as takes_
    ids = {s.id for s in prep.shots}
    for sid in select:
        if sid not in ids:
            from storyboard.model.vocab import unknown
            raise UsageError("--shot: " + unknown("shot", sid, [s.id for s in prep.shots]))
    if takes < 1:
        raise UsageError("--takes must be at least 1")
    p = plan(prep.shots, prep.caps.name, file_digester(prep.loaded.root), cache or Cache(), select, new_take,
             pins=takes_.pins(prep), takes=takes)
    if p.missing_takes and check_pins:
        raise FormatError(takes_.pin_problems(prep, p))
    return p


@dataclass
class RenderReport:
    plan: Plan
    outcomes: dict
    out_dir: Path
    files: dict
    spent: float
    status: int  # the exit status: 0 done, 1 incomplete, or a fatal error's code
    fatal: Exception | None = None


def default_out(path: Path) -> Path:
    """A folder next to the storyboard named after it."""
    return path.parent / path.stem


def render(prep: Prepared, out_dir: Path | None = None, *, select: list[str] | tuple = (), new_take: bool = False,
           takes: int = 1, concurrency: int | None = None, max_cost: float | None = None, loudness: float = -14.0,
           burn_subtitles: bool = False, cache: Cache | None = None, confirm=None,
           on_event=lambda e: None, on_step=lambda s: None) -> RenderReport:
    """Render what is not cached, then make the cut and every export in `out_dir`.

    `confirm(plan) -> bool` is asked before a paid backend spends anything; without it nothing is spent."""
    from storyboard import cut
    from storyboard.backends.base import create
    from storyboard.budget import Budget
    from storyboard.errors import StoryboardError
    from storyboard.fsutil import folder_lock
    from storyboard.renderer import Renderer

    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    with folder_lock(out_dir):
        p = make_plan(prep, cache, select, new_take, takes)
        if p.total > 0:
            if confirm is None or not confirm(p):
                raise UsageError(f"rendering on {p.backend} costs ${p.total:.2f}; pass --yes to spend it "
                                 "(see it first with `storyboard plan`)")
        backend = create(prep.caps, cache)
        budget = Budget(max_cost)
        try:
            made = Renderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                            concurrency or prep.caps.concurrency, budget, on_event).run()
        finally:
            backend.close()
        # takes: the cut's one per shot; a shot this run left without a clip keeps its last one
        from storyboard import takes as takes_
        outcomes = takes_.keep_clips({j.shot.id: made[j.shot.id] for j in p.jobs}, cache, takes_.last_cut(out_dir))
        man = cut.manifest(prep.loaded, prep.caps.name, outcomes, budget.spent)
        owner = {j.base_key: j.shot.id for j in p.jobs}
        man["other_takes"] = [{"shot": owner[j.base_key], "take": j.take, "status": made[j.shot.id].status,
                               "key": j.key, "cost": made[j.shot.id].meta.get("cost", 0.0)} for j in p.extra]
        cut.write_manifest(out_dir, man)  # written first: what was spent is never lost
        result = cut.make(prep.loaded, outcomes, out_dir, loudness=loudness, burn_subtitles=burn_subtitles,
                          on_step=on_step)
        files = dict(result.files, **{"manifest.json": out_dir / "manifest.json"})
        # the page of every shot and its takes, the printable boards and the shot list
        from storyboard.exports import boards, review
        on_step("writing the review page and boards")
        files.update(review.write(prep, p, outcomes, out_dir, cache, spent=budget.spent))
        files.update(boards.write(prep, p, outcomes, out_dir, cache))
        # a stop with its own status (budget, quota, retries, ambiguous) outranks "incomplete"
        fatal = next((o.error for o in made.values()
                      if isinstance(o.error, StoryboardError) and o.error.exit_code not in (1, 3)), None)
        incomplete = (any(o.entry is None for o in outcomes.values())
                      or any(o.status in ("failed", "blocked") for o in made.values()))
        status = fatal.exit_code if fatal is not None else (1 if incomplete else 0)
        return RenderReport(p, outcomes, out_dir, files, budget.spent, status, fatal)


# -- review page, boards and takes, from the cache: nothing is rendered or spent -------------------

def pinned_take_problems(path: str | Path) -> list[Diagnostic]:
    """For `validate`: each pinned take (`take: N`) its shot's current request does not have, on the
    default backend; [] when every pin exists."""
    try:
        make_plan(prepare(path))
    except FormatError as e:
        return e.diagnostics
    return []


def from_cache(prep: Prepared, out_dir: Path, cache: Cache) -> tuple[Plan, dict]:
    """The plan and each shot's outcome as the cache has them, with the clip the cut in `out_dir` keeps."""
    from storyboard import takes as takes_
    p = make_plan(prep, cache)
    last = takes_.last_cut(out_dir)
    return p, takes_.keep_clips(takes_.from_cache(p, cache, last), cache, last)


def review(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None) -> dict[str, Path]:
    """Rebuild review.html and review/ in `out_dir` from the cache."""
    from storyboard.exports import review as page
    from storyboard.fsutil import folder_lock
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    with folder_lock(out_dir):
        p, outcomes = from_cache(prep, out_dir, cache)
        return page.write(prep, p, outcomes, out_dir, cache)


def boards(prep: Prepared, out_dir: Path | None = None, cache: Cache | None = None, grid: str = "2x3",
           paper: str = "a4") -> dict[str, Path]:
    """Write boards.pdf and shotlist.csv in `out_dir` from the cache."""
    from storyboard.exports import boards as sheets
    from storyboard.fsutil import folder_lock
    layout = sheets.Grid.parse(grid)
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    with folder_lock(out_dir):
        p, outcomes = from_cache(prep, out_dir, cache)
        return sheets.write(prep, p, outcomes, out_dir, cache, layout, paper)
