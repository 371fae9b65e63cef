"""`storyboard doctor`: with the user's own keys, ask each provider's free endpoints (list or get models,
the account's balance) whether the key works and whether every model id in the table is still served.
A retired id is what broke Veo in October 2026, and no fake can catch it; a user can. Nothing is spent:
a backend's `served` and `balance` call only endpoints its provider does not bill."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from storyboard import catalog as capabilities
from storyboard.model.caps import BackendCaps
from storyboard.errors import StoryboardError, UsageError
from storyboard.redact import redact


@dataclass
class Finding:
    backend: str
    key: str  # "works" | "refused" | "not set" | "cannot check"
    detail: str = ""
    balance: str | None = None
    served: dict[str, bool | None] = field(default_factory=dict)  # table model -> served (None: cannot tell)
    retired: dict[str, str] = field(default_factory=dict)  # retired id -> its successor

    @property
    def wrong(self) -> bool:
        return self.key == "refused" or any(v is False for v in self.served.values())

    def as_dict(self) -> dict:
        return {"backend": self.backend, "key": self.key, "detail": self.detail, "balance": self.balance,
                "served": self.served, "retired": self.retired, "ok": not self.wrong}


def check(caps: BackendCaps, asked: bool = False) -> Finding:
    """One backend's finding. `asked`: the user named it (a missing key is then wrong, not skipped)."""
    retired = {old: r.successor for old, r in caps.retired.items()}
    if not caps.env:
        return Finding(caps.name, "not needed", "no network, nothing to check", retired=retired)
    if not any(os.environ.get(n) for n in caps.env):
        return Finding(caps.name, "refused" if asked else "not set", f"needs {' or '.join(caps.env)}",
                       retired=retired)
    from storyboard.backends.base import create
    try:
        backend = create(caps)
    except StoryboardError as e:
        return Finding(caps.name, "refused", redact(str(e)), retired=retired)
    try:
        try:
            balance = backend.balance()
        except NotImplementedError:
            balance = None
        try:
            served_ids = backend.served()
        except NotImplementedError:
            return Finding(caps.name, "cannot check", f"{caps.name} offers no free model list", balance,
                           {m: None for m in caps.models}, retired)
        served = {}
        for model, ids in backend.provider_ids().items():
            served[model] = all(i in served_ids for i in ids)
        return Finding(caps.name, "works", "", balance, served, retired)
    except StoryboardError as e:
        kind = "refused" if any(w in str(e).lower() for w in ("credential", "key", "401", "403", "secret")) else "cannot check"
        return Finding(caps.name, kind, redact(str(e)), retired=retired)
    finally:
        backend.close()


def run(backend: str | None = None) -> list[Finding]:
    if backend:
        return [check(capabilities.get(backend), asked=True)]
    return [check(caps) for caps in capabilities.table().values()]


def missing(finding: Finding, caps: BackendCaps) -> list[str]:
    """The table's models the provider no longer serves, each with what to do."""
    out = []
    for model, ok in finding.served.items():
        if ok is False:
            hint = next((new for old, new in finding.retired.items() if old == model), "")
            out.append(f"{model}: no longer served" + (f"; its successor is {hint}" if hint else
                                                       "; remove or replace it in your config"))
    return out


__all__ = ["Finding", "UsageError", "check", "missing", "run"]
