"""The steps wired together (load, check, compile, plan, render, cut), for the CLI and library users."""

from __future__ import annotations

import time
from dataclasses import dataclass
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
              new_take: bool = False) -> Plan:
    """Keys, cache hits and prices of every shot; spends nothing, touches no network."""
    from storyboard.backends.registry import backend_class
    ids = {s.id for s in prep.shots}
    for sid in select:
        if sid not in ids:
            from storyboard.model.vocab import unknown
            raise UsageError("--shot: " + unknown("shot", sid, [s.id for s in prep.shots]))
    return plan(prep.shots, prep.contexts, prep.caps.name, file_digester(prep.loaded.root), cache or Cache(),
                select, new_take, key_extra=backend_class(prep.caps.name).key_extra)


@dataclass
class Rendered:
    """What render_shots did: an outcome per shot (in film order), the money the provider took in this
    run (each outcome says its own, and what earlier runs paid), and the stop, if any."""

    plan: Plan
    outcomes: dict[str, "Outcome"]
    spent: float
    stop: Stop | None = None  # budget, quota, retries or an ambiguous submission ended the run early

    @property
    def complete(self) -> bool:
        return all(o.entry is not None for o in self.outcomes.values())


def render_shots(prep: Prepared, plan: Plan | None = None, *, cache: Cache | None = None,
                 concurrency: int | None = None, max_cost: float | None = None,
                 confirm: Callable[[Plan], bool] | None = None,
                 on_event: Callable[["Event"], None] = lambda e: None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 select: list[str] | tuple = (), new_take: bool = False) -> Rendered:
    """Render what the plan does not find in the cache; never makes the cut.

    `confirm(plan) -> bool` is asked before a paid backend spends anything; without a yes,
    SpendNotConfirmed is raised and nothing is spent. `clock` and `sleep` reach the backend
    (tests pass fakes, so no real back-off is waited out)."""
    from storyboard.backends.base import create
    from storyboard.budget import Budget
    from storyboard.renderer import Renderer

    budget = Budget(max_cost)  # a cap that caps nothing (nan, inf) is refused before anything else
    cache = cache or Cache()
    p = plan or make_plan(prep, cache, select, new_take)
    if p.total > 0 and (confirm is None or not confirm(p)):
        raise SpendNotConfirmed(p.backend, p.total)
    cache.sweep([j.key for j in p.jobs])  # what killed runs left behind
    backend = create(prep.caps, cache, clock=clock, sleep=sleep)
    try:
        outcomes = Renderer(p, backend, cache, prep.loaded.asset, concurrency or prep.caps.concurrency,
                            budget, on_event).run()
    finally:
        backend.close()
    stop = next((o.error for o in outcomes.values() if isinstance(o.error, Stop)), None)
    return Rendered(p, outcomes, budget.spent, stop)


def cut(prep: Prepared, rendered: Rendered, out_dir: Path, *, loudness: float = -14.0,
        burn_subtitles: bool = False, on_step: Callable[[str], None] = lambda s: None) -> "CutResult":
    """The final cut and every export in `out_dir` from rendered shots (slates where a shot has no
    clip); the manifest is written first, so what was spent is never lost."""
    from storyboard import cutting
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = _checked_for_the_cut(rendered.outcomes)
    man = cutting.manifest(prep.loaded, prep.caps.name, outcomes, rendered.spent)
    cutting.write_manifest(out_dir, man)
    result = cutting.make(prep.loaded, outcomes, out_dir, loudness=loudness,
                          burn_subtitles=burn_subtitles, on_step=on_step)
    result.files["manifest.json"] = out_dir / "manifest.json"
    for o in outcomes.values():
        if o.entry is not None and o.same_as is None:
            Cache.of(o.entry).seal_house_copies(o.entry)  # the conformed copies the cut made, checked next time
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
                                                                 for p in cache.check_house_copies(o.entry)])
        if problems[key] is not None:
            out[sid] = replace(o, status="failed", entry=None, reason=(
                f"its cached clip changed after it was checked ({problems[key]}) and was moved aside; "
                "run the same command again to fetch it again"))
    return out


def default_out(path: Path) -> Path:
    """A folder next to the storyboard named after it."""
    return path.parent / path.stem


OUTPUTS = ["final.mp4", "final.srt", "final.vtt", "final.edl", "final.xml", "timeline.otio", "manifest.json"]


def render(prep: Prepared, out_dir: Path | None = None, *, select: list[str] | tuple = (), new_take: bool = False,
           concurrency: int | None = None, max_cost: float | None = None, loudness: float = -14.0,
           burn_subtitles: bool = False, cache: Cache | None = None, confirm: Callable[[Plan], bool] | None = None,
           on_event=lambda e: None, on_step=lambda s: None, force: bool = False) -> tuple[Rendered, "CutResult"]:
    """render_shots, then cut, holding the output folder's one-writer lock throughout. An output
    folder holding files storyboard did not write is refused unless `force`; what earlier runs
    left half-written in it is swept."""
    from storyboard.budget import check_max_cost
    from storyboard.fsutil import check_output_folder, folder_lock, mark_output_folder, sweep
    check_max_cost(max_cost)
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    check_output_folder(out_dir, force)  # before anything (even the lock file) is written there
    with folder_lock(out_dir):
        mark_output_folder(out_dir, OUTPUTS)
        sweep(out_dir, (".*.part*", ".work-*"), everything=True)  # ours; no one else writes here now
        rendered = render_shots(prep, cache=cache, concurrency=concurrency, max_cost=max_cost, confirm=confirm,
                                on_event=on_event, select=select, new_take=new_take)
        result = cut(prep, rendered, out_dir, loudness=loudness, burn_subtitles=burn_subtitles, on_step=on_step)
        mark_output_folder(out_dir, [p.name for p in result.files.values()])
        return rendered, result
