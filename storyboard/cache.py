"""The content-addressed clip store shared by every storyboard of the user; entries appear by rename."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.fsutil import atomic_write_json, fsync_dir


STALE_STAGING_SECONDS = 24 * 3600
_TAKES_LOCK = threading.Lock()


def default_root() -> Path:
    env = os.environ.get("STORYBOARD_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("storyboard"))


@dataclass(frozen=True)
class Entry:
    """A verified clip in the cache, with what the backend said about it."""

    key: str
    folder: Path
    meta: dict

    @property
    def clip(self) -> Path:
        return self.folder / "clip.mp4"

    @property
    def last_frame(self) -> Path:
        return self.folder / "last.png"


class Cache:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()

    def _dir(self, key: str) -> Path:
        return self.root / "clips" / key[:2] / key

    def get(self, key: str) -> Entry | None:
        folder = self._dir(key)
        try:
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not (folder / "clip.mp4").is_file():
            return None
        return Entry(key, folder, meta)

    def staging(self) -> Path:
        """A fresh folder on the cache's file system for a clip being made. Folders left by a
        crashed run (older than a day) are swept here: nothing in them was ever published."""
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STALE_STAGING_SECONDS
        for old in tmp.glob("stage-*"):
            try:
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
        return Path(tempfile.mkdtemp(prefix="stage-", dir=tmp))

    def publish(self, key: str, staged: Path, meta: dict) -> Entry:
        """Make a staged folder (clip.mp4, last.png, ...) the entry for `key`, atomically."""
        atomic_write_json(staged / "meta.json", meta)
        for f in staged.iterdir():
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        final = self._dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staged, final)
        except OSError:
            if self.get(key) is None:  # a broken leftover: replace it
                shutil.rmtree(final, ignore_errors=True)
                os.rename(staged, final)
            else:  # another process published the same key first; theirs is as good
                shutil.rmtree(staged, ignore_errors=True)
        fsync_dir(final.parent)
        entry = self.get(key)
        assert entry is not None
        return entry

    # -- takes: the latest take of a request, so --new-take is remembered ---------------------
    def take(self, base_key: str) -> int:
        try:
            return int((self.root / "takes" / base_key).read_text().strip())
        except (OSError, ValueError):
            return 1

    def raise_take(self, base_key: str, take: int) -> None:
        """Record `take` as the latest of its request unless a later one is; takes of one request
        finish in any order (render --takes N), so the count only grows."""
        from storyboard.fsutil import atomic_write_text
        with _TAKES_LOCK:
            if take > self.take(base_key) or not (self.root / "takes" / base_key).exists():
                atomic_write_text(self.root / "takes" / base_key, f"{take}\n")

    # -- small JSON records: job journals, failures, provider characters ----------------------
    def record(self, kind: str, name: str) -> dict | None:
        try:
            return json.loads((self.root / kind / f"{name}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def save_record(self, kind: str, name: str, data: dict[str, Any]) -> None:
        atomic_write_json(self.root / kind / f"{name}.json", data)

    def drop_record(self, kind: str, name: str) -> None:
        try:
            (self.root / kind / f"{name}.json").unlink()
        except FileNotFoundError:
            pass
