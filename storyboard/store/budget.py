"""Bounded spend. A shot's price is reserved before anything is submitted; money is spent when the
provider accepts a job, whatever becomes of its download or file afterwards; --max-cost is checked
against reserved plus spent, so no fault can free room under it."""

from __future__ import annotations

import math
import threading
import uuid

from storyboard.errors import BackendError, BudgetExceeded, UsageError


def check_max_cost(max_cost: float | None) -> float | None:
    """A cap must be a finite number of dollars, zero or more (nan or inf would cap nothing)."""
    if max_cost is not None and not (isinstance(max_cost, (int, float)) and math.isfinite(max_cost) and max_cost >= 0):
        raise UsageError(f"--max-cost must be a finite number of dollars, zero or more (not {max_cost!r})")
    return max_cost


class Budget:
    def __init__(self, max_cost: float | None = None):
        self.max_cost = check_max_cost(max_cost)
        self.spent = 0.0  # accepted by the provider in this run
        self.reserved = 0.0  # held for jobs about to be submitted, or whose outcome is unknown
        self.run = uuid.uuid4().hex  # journaled with every job this run submits (see Purse.this_run)
        self._lock = threading.Lock()

    def _room(self, amount: float) -> bool:
        return self.max_cost is None or self.spent + self.reserved + amount <= self.max_cost + 1e-9

    def open(self, amount: float, new_jobs: str = "") -> "Purse | None":
        """A purse holding `amount` for one shot; None if that could pass the cap. With `new_jobs`
        (the reason), the shot may fetch what was paid before but start no paid job."""
        with self._lock:
            if not self._room(amount):
                return None
            self.reserved += amount
        return Purse(self, amount, new_jobs)

    def over(self, amount: float) -> str:
        return (f"${amount:.2f} would pass --max-cost ${self.max_cost:.2f} "
                f"(${self.spent + self.reserved:.2f} spent or reserved)")


class Purse:
    """One shot's money: what is held for it, what the provider took in this run, and what was
    taken in earlier runs for the jobs it re-attaches to."""

    def __init__(self, budget: Budget | None, held: float = 0.0, refuse_new: str = ""):
        self.budget = budget
        self.held = held
        self.refuse_new = refuse_new  # why no new paid job may start (a damaged entry being fetched again)
        self.spent = 0.0
        self.earlier = 0.0
        self.unconfirmed = 0.0  # held for a submission whose outcome is unknown
        self._paid: dict[str, tuple[float, bool]] = {}  # job id -> (amount, in an earlier run)

    def hold(self, amount: float) -> None:
        """Before a paid request leaves: make sure `amount` is held (the cap counts it)."""
        if amount <= 0:
            return
        if self.refuse_new:
            raise BackendError(self.refuse_new)
        if self.budget is None or self.held >= amount - 1e-9:
            return
        need = amount - self.held
        with self.budget._lock:
            if not self.budget._room(need):
                raise BudgetExceeded(self.budget.over(need))
            self.budget.reserved += need
        self.held += need

    @property
    def run(self) -> str:
        return self.budget.run if self.budget is not None else ""

    def this_run(self, rec: dict) -> bool:
        """Was the job a journal record names submitted by this run (by another of its workers, or an
        attempt of this shot's task that was killed)? Then re-attaching to it is money spent in this
        run, not earlier. Told by the run's id in the record, not by clocks."""
        return bool(self.run) and rec.get("run") == self.run

    def paid(self, amount: float, job_id: str, earlier: bool = False) -> None:
        """The provider accepted `job_id` (in this run, or in an earlier one): the money is spent."""
        if job_id in self._paid:
            return
        self._paid[job_id] = (amount, earlier)
        take = min(amount, self.held)
        self.held -= take
        if earlier:
            self.earlier += amount
        else:
            self.spent += amount
        if self.budget is not None:
            with self.budget._lock:
                self.budget.reserved -= take
                if not earlier:
                    self.budget.spent += amount

    def not_charged(self, job_id: str) -> None:
        """The provider says a failed job is not billed: it no longer counts."""
        amount, earlier = self._paid.pop(job_id, (0.0, False))
        if earlier:
            self.earlier -= amount
            return
        self.spent -= amount
        if self.budget is not None:
            with self.budget._lock:
                self.budget.spent -= amount

    def close(self, unclear: bool = False) -> None:
        """The shot is over: release what is still held, unless a submission's outcome is unclear;
        then it stays held to the end of the run (the provider may have taken it)."""
        if unclear:
            self.unconfirmed = self.held
            return
        if self.budget is not None:
            with self.budget._lock:
                self.budget.reserved -= self.held
        self.held = 0.0
