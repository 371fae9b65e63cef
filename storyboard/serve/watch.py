"""The storyboard, its includes and its references watched with watchfiles (inotify where there is
one): an edit asks the room for a refresh. The folders holding them are watched, since editors save
by writing a new file and renaming it over the old one; events for other files there are ignored.
The set is read again after each event, so a new include is watched from the next save on."""

from __future__ import annotations

import threading
from pathlib import Path

from storyboard.serve.room import Room


class Watcher:
    def __init__(self, room: Room, debounce_ms: int = 150):
        self.room = room
        self.debounce_ms = debounce_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="storyboard-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3)

    def _run(self) -> None:
        from watchfiles import watch
        while not self._stop.is_set():
            files = {p.resolve() for p in self.room.watched()}
            folders = sorted({str(p.parent) for p in files if p.parent.is_dir()})
            for changes in watch(*folders, stop_event=self._stop, debounce=self.debounce_ms, step=50,
                                 rust_timeout=500, yield_on_timeout=True, raise_interrupt=False, recursive=False):
                if any(Path(path).resolve() in files for _, path in changes):
                    self.room.want("refresh")
                    break  # the set of files may have changed with this edit
                if {p.resolve() for p in self.room.watched()} != files:
                    break
