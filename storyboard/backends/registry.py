"""Which code renders for which backend name: a table of the built-ins, plus entry points.

A third-party backend registers a class under the entry-point group `storyboard.backends`
(and ships its capability table under `storyboard.capabilities`); nothing here imports a
backend until it is asked for, so a missing optional dependency disables only that backend."""

from __future__ import annotations

import importlib
from functools import lru_cache

from storyboard.errors import UsageError

BUILTIN = {
    "animatic": "storyboard.backends.animatic:AnimaticBackend",
    "openai": "storyboard.backends.openai_videos:OpenAIVideos",
    "veo": "storyboard.backends.veo:Veo",
}


def _entry_points() -> dict[str, object]:
    from importlib.metadata import entry_points
    return {ep.name: ep for ep in entry_points(group="storyboard.backends")}


@lru_cache(maxsize=None)
def backend_class(name: str) -> type:
    """The Backend subclass for a capability-table name; UsageError when it cannot be had."""
    target = BUILTIN.get(name)
    try:
        if target is not None:
            module, _, cls = target.partition(":")
            return getattr(importlib.import_module(module), cls)
        ep = _entry_points().get(name)
        if ep is not None:
            return ep.load()
    except ImportError as e:
        raise UsageError(f"the {name} backend cannot be used: its Python package {e.name or e} is not "
                         f"installed; pip install it (the other backends are unaffected)") from None
    raise UsageError(f"backend {name!r} is in the capability table but no code is registered for it; "
                     "install its plugin, or remove it from your config")
