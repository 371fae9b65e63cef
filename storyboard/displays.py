"""Two ready progress displays for library users: a rich bar (terminals and notebooks) and a tqdm bar
(`tqdm.auto`: a widget in a notebook, text elsewhere; tqdm is optional, imported when one is made).

    storyboard.render("film.yaml", "out", progress=storyboard.RichProgress())

Both count shots as they finish (cached ones included), show the money spent and the cut's steps."""

from __future__ import annotations

import threading
from typing import Any

from storyboard.errors import UsageError
from storyboard.progress import Progress, Tally


class _Bar(Progress):
    """Counts shots with a Tally (O(1) per event) and draws one bar; subclasses say how."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # events come from the render's threads
        self.tally: Tally | None = None
        self.names: list[str] = []

    def start(self, total: int, names: list[str]) -> None:
        with self._lock:
            if self.tally is None:
                self.tally, self.names = Tally(total), names
                self._open(total)

    def event(self, index: int, event) -> None:
        with self._lock:
            if self.tally is None:  # told of a shot without a start: count as they come
                self.tally = Tally(0)
                self._open(None)
            before = self.tally.finished
            self.tally.update((index, event.shot), event.state, event.spent)
            label = f"{self.names[index]}/{event.shot}" if len(self.names) > 1 else event.shot
            self._show(self.tally.finished - before, f"{label}: {event.state}", self.tally.spent)

    def step(self, index: int, text: str) -> None:
        with self._lock:
            if self.tally is None:  # a cut on its own
                self.tally = Tally(0)
                self._open(None)
            name = f"{self.names[index]}: " if len(self.names) > 1 else ""
            self._show(0, f"{name}cut: {text}", self.tally.spent)

    def close(self) -> None:
        with self._lock:
            if self.tally is not None:
                self._close()
            self.tally = None  # one display serves the next run too

    # drawing
    def _open(self, total: int | None) -> None: ...
    def _show(self, finished: int, text: str, spent: float) -> None: ...
    def _close(self) -> None: ...


class RichProgress(_Bar):
    """A rich progress bar: shots finished of all, what happened last, money spent, time elapsed.
    `console`: a rich Console (default: rich's own, which draws in Jupyter too)."""

    def __init__(self, console: Any = None) -> None:
        super().__init__()
        self.console = console
        self.bar: Any = None

    def _open(self, total: int | None) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn)
        self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[spent]}"), TimeElapsedColumn(), console=self.console)
        self.task = self.bar.add_task("render", total=total or None, spent="$0.00")
        self.bar.start()

    def _show(self, finished: int, text: str, spent: float) -> None:
        self.bar.update(self.task, advance=finished, description=text, spent=f"${spent:.2f}")

    def _close(self) -> None:
        self.bar.stop()


class TqdmProgress(_Bar):
    """A tqdm bar (`tqdm.auto`: a widget in Jupyter, text in a terminal); `kwargs` go to tqdm."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise UsageError("TqdmProgress needs tqdm: pip install tqdm (or storyboard[notebook])") from None
        self._tqdm, self.kwargs, self.bar = tqdm, kwargs, None

    def _open(self, total: int | None) -> None:
        self.bar = self._tqdm(total=total or None, unit="shot", desc="render", **self.kwargs)

    def _show(self, finished: int, text: str, spent: float) -> None:
        if finished:
            self.bar.update(finished)
        self.bar.set_postfix_str(f"{text}, ${spent:.2f} spent", refresh=True)

    def _close(self) -> None:
        self.bar.close()
