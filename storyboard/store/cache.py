"""The content-addressed clip store shared by every storyboard of the user (and by a team, on a
shared folder): entries appear by rename, are checked before they are served, and one request is
made by one process at a time."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from storyboard.common import digest
from storyboard.model.jobs import Entry
from storyboard.store.files import (UMASK, RequestLock, atomic_write_json, fsync_dir, owner_tag, sha256_file, sweep,
                                    atomic_write_text, create_exclusive_json)


_TAKES_LOCK = threading.Lock()
_HOUSE = re.compile(r"^house-\d+x\d+@\d+-(?P<frames>\d+)\.mp4$")
_hashed: dict[str, tuple[tuple, str]] = {}  # path -> (stat signature, sha256): hashed once per process
_hashed_lock = threading.Lock()


def default_root() -> Path:
    env = os.environ.get("STORYBOARD_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("storyboard"))


def local_root() -> Path:
    """A folder on this machine for what is kept beside the clips (the voices' lines and models):
    the cache's folder, or the user's cache folder when the cache is a bucket (STORYBOARD_CACHE=s3://...)."""
    from storyboard.store.objects import is_object_url
    env = os.environ.get("STORYBOARD_CACHE")
    if env and is_object_url(env):
        from platformdirs import user_cache_dir
        return Path(user_cache_dir("storyboard"))
    return default_root()


def _signature(st: os.stat_result) -> tuple:
    return st.st_ino, st.st_size, st.st_mtime_ns


def check_file(path: Path, size: int, sha256: str, rehash: bool = False) -> str | None:
    """What is wrong with a file against its recorded size and digest, or None. The size is always
    compared; the digest is computed on first use in a process (or when the file changed since, or
    with `rehash`)."""
    try:
        st = path.stat()
    except OSError:
        return "the file is missing"
    if st.st_size != size:
        return f"it is {st.st_size} bytes, not the {size} recorded (truncated or replaced)"
    sig = _signature(st)
    with _hashed_lock:
        known = _hashed.get(str(path))
    if rehash or known != (sig, sha256):
        if sha256_file(path) != sha256:
            return "its content differs from what was recorded (sha256)"
        with _hashed_lock:
            _hashed[str(path)] = (sig, sha256)
    return None


def seal_file(path: Path) -> dict:
    """Size and digest of a file we just made or checked (remembered as checked in this process)."""
    sha = sha256_file(path)
    st = path.stat()
    with _hashed_lock:
        _hashed[str(path)] = (_signature(st), sha)
    return {"bytes": st.st_size, "sha256": sha}


class Cache:
    """The clip store at `root` (default: $STORYBOARD_CACHE, else the user's cache folder), shared by
    every storyboard and run: a clip is made once per request and served from here after."""

    def __new__(cls, root: Path | None = None, *args, **kw):
        """`Cache()` is the configured cache: a folder, or (STORYBOARD_CACHE=s3://... or [cache] url)
        the shared bucket of store.shared.ObjectCache. A folder given is always that folder."""
        if cls is Cache and root is None:
            from storyboard.store.shared import ObjectCache, object_url
            if object_url():
                return ObjectCache()
        return super().__new__(cls)

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    @classmethod
    def of(cls, entry: Entry) -> "Cache":
        """The cache an entry lives in."""
        return entry.source if entry.source is not None else Cache(entry.folder.parents[2])

    def _dir(self, key: str) -> Path:
        return self.root / "clips" / key[:2] / key

    READS_AT_ONCE = 1  # a folder's reads wait for nothing: one after another

    def each(self, fn: Callable[[Any], Any], items: list) -> list:
        """fn(item) for every item, in order, where fn reads this cache: several at once on a cache
        whose every read is a round trip (a bucket: store.shared.ObjectCache)."""
        if self.READS_AT_ONCE <= 1 or len(items) < 2:
            return [fn(item) for item in items]
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(min(self.READS_AT_ONCE, len(items)), thread_name_prefix="cache-read") as pool:
            return list(pool.map(fn, items))

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
        """A fresh folder on the cache's file system for a clip being made, named after its owner
        (host and pid) so the sweep can tell a dead run's leftovers."""
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"stage-{owner_tag()}-", dir=tmp))

    def sweep(self, keys: list[str] = ()) -> list[Path]:
        """Remove what killed runs left: staging folders, abandoned request locks, and temporary
        files (a half-made house copy, say) in the entries of `keys`. Live processes' work stays."""
        gone = sweep(self.root / "tmp", ("stage-*",))
        for lock in (self.root / "locks").glob("*.lock"):
            if RequestLock(lock).clear_if_abandoned():
                gone.append(lock)
        gone += sweep(self.root / "locks", (".*.part",))
        for key in keys:
            gone += sweep(self._dir(key), (".*.part*",))
        return gone

    def request_lock(self, key: str) -> RequestLock:
        """The lock a process holds while it makes the clip of `key` (see fsutil.RequestLock)."""
        return RequestLock(self.root / "locks" / f"{key}.lock")

    # -- checking what is served ------------------------------------------------------------------
    def check(self, entry: Entry, rehash: bool = False) -> str | None:
        """What is wrong with an entry's clip, or None when it is the clip that was verified. An entry
        from before digests were recorded has none to check: see `seal`."""
        if entry.meta.get("key", entry.key) != entry.key:
            return "it holds another request's clip"
        if not entry.sealed:
            return None
        return check_file(entry.clip, int(entry.meta.get("clip_bytes", -1)), entry.meta["clip_sha256"], rehash)

    def seal(self, entry: Entry, **verified) -> Entry:
        """Record the size and digest of an entry's clip (and its verified frame and sample counts)."""
        meta = {**entry.meta, **_clip_fields(entry.clip), **verified}
        atomic_write_json(entry.folder / "meta.json", meta)
        return Entry(entry.key, entry.folder, meta)

    def check_last_frame(self, entry: Entry, rehash: bool = False) -> str | None:
        """What is wrong with the last frame an entry keeps (the first frame of the continuous shot
        after it, sent in paid requests), against the size and digest recorded with it, or None.
        One never recorded (an entry from before they were) is not known good."""
        if not entry.meta.get("last_sha256"):
            return "its size and digest were never recorded"
        return check_file(entry.last_frame, int(entry.meta.get("last_bytes", -1)), entry.meta["last_sha256"], rehash)

    def remake_last_frame(self, entry: Entry, make: Callable[[Path], object], aside: bool = True) -> Entry:
        """Replace an entry's last frame with one `make` writes (from its verified clip), recorded
        like the clip; the old one is moved aside to bad/ (with `aside`: one known damaged)."""
        if aside:
            bad = self.root / "bad" / f"{entry.key}.last.{time.strftime('%Y%m%d-%H%M%S')}.{owner_tag()}.png"
            bad.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.rename(entry.last_frame, bad)
        tmp = entry.folder / f".last.{owner_tag()}.part.png"
        try:
            make(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, entry.last_frame)
        finally:
            tmp.unlink(missing_ok=True)
        meta = {**entry.meta, **_last_fields(entry.last_frame)}
        atomic_write_json(entry.folder / "meta.json", meta)
        return Entry(entry.key, entry.folder, meta)

    def quarantine(self, key: str) -> Path | None:
        """Move a bad entry aside (kept for a look under bad/); None if it was gone already."""
        bad = self.root / "bad" / f"{key}.{time.strftime('%Y%m%d-%H%M%S')}.{owner_tag()}"
        bad.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self._dir(key), bad)
        except OSError:
            return None
        return bad

    def check_house_copies(self, entry: Entry, frames_of: Callable[[Path], int], rehash: bool = True) -> list[str]:
        """Check the conformed copies kept beside a clip against their recorded digests; a bad one is
        moved aside (the cut makes it again). One not yet recorded (its maker stopped before the
        record) is decoded (`frames_of` counts its frames) and recorded if whole. Returns what was wrong,
        for a warning."""
        recorded = self.record_in(entry, "house.json")
        problems, changed = [], False
        for copy in sorted(entry.folder.glob("house-*.mp4")):
            m = _HOUSE.match(copy.name)
            rec = recorded.get(copy.name)
            if rec is not None:
                problem = check_file(copy, int(rec.get("bytes", -1)), str(rec.get("sha256")), rehash)
            else:
                try:
                    problem = None if m and frames_of(copy) == int(m.group("frames")) else "it is incomplete"
                except Exception as e:  # noqa: BLE001 - any decoding failure means a bad copy
                    problem = f"it does not decode ({e})"
                if problem is None:
                    recorded[copy.name] = seal_file(copy)
                    changed = True
            if problem is not None:
                problems.append(f"{copy.name}: {problem}")
                recorded.pop(copy.name, None)
                changed = True
                try:
                    os.replace(copy, copy.with_name(f".{copy.stem}.{owner_tag()}.bad.part{copy.suffix}"))
                except OSError:
                    pass
        if changed:
            atomic_write_json(entry.folder / "house.json", recorded)
        return problems

    def seal_house_copies(self, entry: Entry) -> None:
        """Record the digests of conformed copies made beside a clip (after a cut made them)."""
        recorded = self.record_in(entry, "house.json")
        new = {c.name: seal_file(c) for c in entry.folder.glob("house-*.mp4") if c.name not in recorded}
        if new:
            atomic_write_json(entry.folder / "house.json", {**recorded, **new})

    @staticmethod
    def record_in(entry: Entry, name: str) -> dict:
        try:
            data = json.loads((entry.folder / name).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def publish(self, key: str, staged: Path, meta: dict) -> Entry:
        """Make a staged folder (clip.mp4, last.png, ...) the entry for `key`, atomically; its meta
        records the clip's size and digest, checked before the entry is ever served."""
        meta = {**meta, **_clip_fields(staged / "clip.mp4")}
        if (staged / "last.png").is_file():
            meta.update(_last_fields(staged / "last.png"))
        atomic_write_json(staged / "meta.json", meta)
        os.chmod(staged, 0o777 & ~UMASK)  # mkdtemp made it private; a team's shared cache must be readable
        for f in staged.iterdir():
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        final = self._dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staged, final)
        except OSError:
            theirs = self.get(key)
            if theirs is None or self.check(theirs) is not None:  # a broken leftover: replace it
                if self.quarantine(key) is None:
                    shutil.rmtree(final, ignore_errors=True)
                os.rename(staged, final)
            else:  # another process published the same key first; theirs is as good
                shutil.rmtree(staged, ignore_errors=True)
        fsync_dir(final.parent)
        entry = self.get(key)
        assert entry is not None
        if entry.meta.get("clip_sha256") == meta["clip_sha256"]:
            seal_file(entry.clip)  # remember it as checked in this process
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

    # -- claims: which request owns a provider's job (so a lookup never adopts another's) --------
    @staticmethod
    def _claim_name(backend: str, job_id: str) -> str:
        return digest({"backend": backend, "job": job_id})[:40]

    def claim(self, backend: str, job_id: str, owner: dict, certain: bool) -> bool:
        """Record that `job_id` belongs to `owner` (a request's key and segment). A job the provider
        answered for is ours for certain; one a lookup picked out is ours only if no one claimed it
        first (the claim is created exclusively). True when the job is now `owner`'s."""
        path = self.root / "claims" / f"{self._claim_name(backend, job_id)}.json"
        if certain:
            atomic_write_json(path, owner)
            return True
        if create_exclusive_json(path, owner):
            return True
        return self.record("claims", path.stem) == owner

    def claimed_by_another(self, backend: str, job_id: str, owner: dict) -> bool:
        path = self.root / "claims" / f"{self._claim_name(backend, job_id)}.json"
        if not path.exists():
            return False
        return self.record("claims", path.stem) != owner  # unreadable (being written): not ours either


def _clip_fields(clip: Path) -> dict:
    sealed = seal_file(clip)
    return {"clip_bytes": sealed["bytes"], "clip_sha256": sealed["sha256"]}


def _last_fields(png: Path) -> dict:
    sealed = seal_file(png)
    return {"last_bytes": sealed["bytes"], "last_sha256": sealed["sha256"]}
