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
              new_take: bool = False) -> Plan:
    ids = {s.id for s in prep.shots}
    for sid in select:
        if sid not in ids:
            from storyboard.model.vocab import unknown
            raise UsageError("--shot: " + unknown("shot", sid, [s.id for s in prep.shots]))
    return plan(prep.shots, prep.caps.name, file_digester(prep.loaded.root), cache or Cache(), select, new_take)


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
           concurrency: int | None = None, max_cost: float | None = None, loudness: float = -14.0,
           burn_subtitles: bool = False, cache: Cache | None = None, confirm=None,
           on_event=lambda e: None, on_step=lambda s: None, media_root: str | None = None) -> RenderReport:
    """Render what is not cached, then make the cut and every export in `out_dir`.

    `confirm(plan) -> bool` is asked before a paid backend spends anything; without it nothing is spent.
    `media_root`: the exports name media as absolute paths under this folder (see handoff.url)."""
    from storyboard import cut
    from storyboard.backends.base import create
    from storyboard.budget import Budget
    from storyboard.errors import StoryboardError
    from storyboard.exports.handoff import check_media_root
    from storyboard.fsutil import folder_lock
    from storyboard.renderer import Renderer

    check_media_root(media_root)  # before anything is spent
    cache = cache or Cache()
    out_dir = Path(out_dir) if out_dir else default_out(prep.loaded.path)
    with folder_lock(out_dir):
        p = make_plan(prep, cache, select, new_take)
        if p.total > 0:
            if confirm is None or not confirm(p):
                raise UsageError(f"rendering on {p.backend} costs ${p.total:.2f}; pass --yes to spend it "
                                 "(see it first with `storyboard plan`)")
        backend = create(prep.caps, cache)
        budget = Budget(max_cost)
        try:
            outcomes = Renderer(p, backend, cache, prep.loaded.asset, concurrency or prep.caps.concurrency,
                                budget, on_event).run()
        finally:
            backend.close()
        man = cut.manifest(prep.loaded, prep.caps.name, outcomes, budget.spent)
        cut.write_manifest(out_dir, man)  # written first: what was spent is never lost
        result = cut.make(prep.loaded, outcomes, out_dir, loudness=loudness, burn_subtitles=burn_subtitles,
                          on_step=on_step, media_root=media_root)
        files = dict(result.files, **{"manifest.json": out_dir / "manifest.json"})
        # a stop with its own status (budget, quota, retries, ambiguous) outranks "incomplete"
        fatal = next((o.error for o in outcomes.values()
                      if isinstance(o.error, StoryboardError) and o.error.exit_code not in (1, 3)), None)
        incomplete = any(o.entry is None for o in outcomes.values())
        status = fatal.exit_code if fatal is not None else (1 if incomplete else 0)
        return RenderReport(p, outcomes, out_dir, files, budget.spent, status, fatal)
