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
