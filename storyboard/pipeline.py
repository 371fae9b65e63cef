"""The steps wired together (load, check, compile, plan, render, cut), for the CLI and library users."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from storyboard import checks
from storyboard.backends import capabilities
from storyboard.backends.capabilities import BackendCaps
from storyboard.cache import Cache
from storyboard.compiler import compile_storyboard
from storyboard.continuity import ShotContext, fold
from storyboard.errors import Diagnostic, FormatError, SpendNotConfirmed, Stop, UsageError
from storyboard.loader import Loaded, load
from storyboard.model.compiled import CompiledShot
from storyboard.planner import Plan, file_digester, plan

if TYPE_CHECKING:  # the renderer and the cut pull in the media stack: imported when used
    from storyboard.cutting import CutResult
    from storyboard.renderer import Event, Outcome


@dataclass(frozen=True)
class Prepared:
    """A storyboard checked and compiled for one backend: what plan and render start from."""

    loaded: Loaded
    caps: BackendCaps
    contexts: list[ShotContext]
    shots: list[CompiledShot]
    warnings: list[Diagnostic]


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
    diags = checks.for_backend(loaded, caps, capabilities.known_models())
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        raise FormatError(errors)
    contexts = fold(loaded.storyboard)
    shots = compile_storyboard(loaded, caps.name, contexts)
    return Prepared(loaded, caps, contexts, shots, [d for d in diags if d.severity != "error"])


def make_plan(prep: Prepared, cache: Cache | None = None, select: list[str] | tuple = (),
              new_take: bool = False, takes: int = 1, check_pins: bool = True) -> Plan:
    """Keys, cache hits and prices of every shot; spends nothing, touches no network. FormatError
    when a pinned take does not exist (`takes`: make takes 1..N of the selected shots)."""
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
    if p.missing_takes and check_pins:
        raise FormatError(takes_.pin_problems(prep, p))
    return p


@dataclass
class Rendered:
    """What render_shots did: an outcome per shot (in film order), the money spent, and the stop, if any."""

    plan: Plan
    outcomes: dict[str, "Outcome"]  # the take the cut uses, per shot
    spent: float
    stop: Stop | None = None  # budget, quota, retries or an ambiguous submission ended the run early
    extra: dict[str, "Outcome"] = field(default_factory=dict)  # other takes made (--takes N), by job name

    @property
    def complete(self) -> bool:
        return (all(o.entry is not None for o in self.outcomes.values())
                and not any(o.status in ("failed", "blocked") for o in self.extra.values()))


def render_shots(prep: Prepared, plan: Plan | None = None, *, cache: Cache | None = None,
                 concurrency: int | None = None, max_cost: float | None = None,
                 confirm: Callable[[Plan], bool] | None = None,
                 on_event: Callable[["Event"], None] = lambda e: None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 select: list[str] | tuple = (), new_take: bool = False, takes: int = 1) -> Rendered:
    """Render what the plan does not find in the cache; never makes the cut.

    `confirm(plan) -> bool` is asked before a paid backend spends anything; without a yes,
    SpendNotConfirmed is raised and nothing is spent. `clock` and `sleep` reach the backend
    (tests pass fakes, so no real back-off is waited out)."""
    from storyboard.backends.base import create
    from storyboard.budget import Budget
    from storyboard.renderer import Renderer

    cache = cache or Cache()
    p = plan or make_plan(prep, cache, select, new_take, takes)
    if p.total > 0 and (confirm is None or not confirm(p)):
        raise SpendNotConfirmed(p.backend, p.total)
    backend = create(prep.caps, cache, clock=clock, sleep=sleep)
    budget = Budget(max_cost)
    try:
        made = Renderer(Plan(p.backend, p.jobs + p.extra), backend, cache, prep.loaded.asset,
                        concurrency or prep.caps.concurrency, budget, on_event).run()
    finally:
        backend.close()
    stop = next((o.error for o in made.values() if isinstance(o.error, Stop)), None)
    return Rendered(p, {j.shot.id: made[j.shot.id] for j in p.jobs}, budget.spent, stop,
                    {j.shot.id: made[j.shot.id] for j in p.extra})


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
    rendered.outcomes = takes_.keep_clips(rendered.outcomes, cache, takes_.last_cut(out_dir))
    man = cutting.manifest(prep.loaded, prep.caps.name, rendered.outcomes, rendered.spent)
    owner = {j.base_key: j.shot.id for j in rendered.plan.jobs}
    man["other_takes"] = [{"shot": owner[j.base_key], "take": j.take, "status": rendered.extra[j.shot.id].status,
                           "key": j.key, "cost": rendered.extra[j.shot.id].meta.get("cost", 0.0)}
                          for j in rendered.plan.extra if j.shot.id in rendered.extra]
    cutting.write_manifest(out_dir, man)
    result = cutting.make(prep.loaded, rendered.outcomes, out_dir, loudness=loudness,
                          burn_subtitles=burn_subtitles, on_step=on_step, media_root=media_root)
    result.files["manifest.json"] = out_dir / "manifest.json"
    on_step("writing the review page and boards")
    result.files.update(review.write(prep, rendered.plan, rendered.outcomes, out_dir, cache, spent=rendered.spent))
    result.files.update(boards.write(prep, rendered.plan, rendered.outcomes, out_dir, cache))
    return result


def default_out(path: Path) -> Path:
    """A folder next to the storyboard named after it."""
    return path.parent / path.stem


def render(prep: Prepared, out_dir: Path | None = None, *, select: list[str] | tuple = (), new_take: bool = False,
           takes: int = 1, concurrency: int | None = None, max_cost: float | None = None, loudness: float = -14.0,
           burn_subtitles: bool = False, cache: Cache | None = None, confirm: Callable[[Plan], bool] | None = None,
           on_event=lambda e: None, on_step=lambda s: None,
           media_root: str | None = None) -> tuple[Rendered, "CutResult"]:
    """render_shots, then cut, holding the output folder's one-writer lock throughout."""
    from storyboard.exports.handoff import check_media_root
    from storyboard.fsutil import folder_lock
    check_media_root(media_root)  # before anything is spent
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    with folder_lock(out_dir):
        rendered = render_shots(prep, cache=cache, concurrency=concurrency, max_cost=max_cost, confirm=confirm,
                                on_event=on_event, select=select, new_take=new_take, takes=takes)
        return rendered, cut(prep, rendered, out_dir, loudness=loudness, burn_subtitles=burn_subtitles,
                             on_step=on_step, media_root=media_root, cache=cache)


# -- review page, boards and takes, from the cache: nothing is rendered or spent -------------------

def pinned_take_problems(path: str | Path, backend: str | None = None) -> list[Diagnostic]:
    """For `validate`: each pinned take (`take: N`) its shot's current request does not have, on the
    backend (the configured one when None); [] when every pin exists."""
    try:
        make_plan(prepare(path, backend))
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
