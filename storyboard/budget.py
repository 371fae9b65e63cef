"""Bounded spend: a shot's price is reserved before it is submitted; --max-cost is never exceeded."""

from __future__ import annotations

import threading


class Budget:
    def __init__(self, max_cost: float | None = None):
        self.max_cost = max_cost
        self.spent = 0.0  # committed: rendered, failed or blocked jobs
        self.reserved = 0.0
        self._lock = threading.Lock()

    def try_reserve(self, amount: float) -> bool:
        """Hold `amount` for a job about to be submitted; False if that could exceed the cap."""
        with self._lock:
            if self.max_cost is not None and self.spent + self.reserved + amount > self.max_cost + 1e-9:
                return False
            self.reserved += amount
            return True

    def commit(self, reserved: float, actual: float) -> None:
        """The job ended: it cost `actual` (failed and blocked jobs count, unless not charged)."""
        with self._lock:
            self.reserved -= reserved
            self.spent += actual

    def release(self, reserved: float) -> None:
        """The job was never submitted."""
        with self._lock:
            self.reserved -= reserved
