"""Which code renders for which backend: the `code` its capability table names ("module:Class"),
else a class registered under the entry-point group `storyboard.backends` by a third-party package
(which ships its capability table under `storyboard.capabilities`).

Nothing here imports a backend until it is asked for, so a missing optional dependency disables
only that backend, with a message naming what to install."""

from __future__ import annotations

import importlib
from functools import lru_cache

from storyboard import catalog as capabilities
from storyboard.errors import UsageError


@lru_cache(maxsize=None)
def _load(name: str, code: str) -> type:
    try:
        if code:
            module, _, cls = code.partition(":")
            return getattr(importlib.import_module(module), cls)
        from importlib.metadata import entry_points
        ep = next((e for e in entry_points(group="storyboard.backends") if e.name == name), None)
        if ep is not None:
            return ep.load()
    except ImportError as e:
        raise UsageError(f"the {name} backend cannot be used: its Python package {e.name or e} is not "
                         f"installed; pip install it (the other backends are unaffected)") from None
    except AttributeError:
        raise UsageError(f"the {name} backend names code {code!r}, which does not exist") from None
    raise UsageError(f"backend {name!r} is in the capability table but no code is registered for it; "
                     "install its plugin, or remove it from your config")


def backend_class(name: str) -> type:
    """The Backend subclass for a capability-table name; UsageError when it cannot be had."""
    caps = capabilities.get(name)
    return _load(caps.name, caps.code)
