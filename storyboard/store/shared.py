"""The clip cache on object storage (a team's bucket), with the same promises as the local folder:
nothing half-written is ever served, a request is made by one process at a time, and what was paid
for is never paid again, whichever machine asks.

What is where (keys under the cache URL; the local folder's layout, with objects for files):
- clips/<k2>/<key>/meta.json: the entry, created conditionally (If-None-Match: *) and LAST, after
  its clip and stills were uploaded under a fresh name (<nonce>/clip.mp4...) and their stored size
  checked; it names each object with its size and sha256. No meta, no entry: a process killed
  mid-upload leaves only unreferenced parts behind, never a half entry, and whoever publishes
  that request next deletes them.
- clips/<k2>/<key>/house.json: the conformed copies the cut made, each uploaded first, the record
  updated by compare-and-swap on its ETag.
- locks/<key>.lock: the per-request claim (owner, heartbeat), see ObjectClaim.
- jobs/<key>.json: the journal of a request's paid jobs, rewritten only over the version its writer
  read (If-Match), so a process that lost its claim cannot overwrite the new owner's journal.
- claims/, failures/, takes/: as in the local folder; takes only grow (compare-and-swap).
- bad/<key>.<time>.<owner>/: a quarantined entry's objects (its meta deleted first, on its ETag).

Reads are verified as on disk: every object is checked by size and sha256 when it is fetched into
the local read-through copy that ffmpeg reads (a folder with the local cache's layout, kept under a
size limit: least recently used entries go first, never one this process is using)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any, Callable

from storyboard.errors import StoryboardError, UsageError
from storyboard.model.jobs import Entry
from storyboard.store.cache import Cache, _clip_fields, check_file, seal_file
from storyboard.store.files import Claim, atomic_write_json, owner_tag, publish, temp_name
from storyboard.store.objects import ObjectStore, describe_error, is_object_url, open_store

DEFAULT_LOCAL_LIMIT = 20 * 2**30  # bytes of read-through copies kept on this machine


class ClaimLost(StoryboardError):
    """Another process took over a request this one was working on (it judged our claim stale)."""


# -- where the cache is ----------------------------------------------------------------------------

def _config() -> dict:
    """The [cache] table of the user's config file (read here: the store sits below the catalog)."""
    env = os.environ.get("STORYBOARD_CONFIG")
    if env:
        path = Path(env)
    else:
        from platformdirs import user_config_dir
        path = Path(user_config_dir("storyboard")) / "config.toml"
    try:
        cfg = tomllib.loads(path.read_text("utf-8")).get("cache", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def configured() -> dict:
    """url, local, local_limit_gb and endpoint_url of the cache: STORYBOARD_CACHE (and
    STORYBOARD_CACHE_LOCAL for the read-through copy) over `[cache]` in the user's config."""
    cfg = dict(_config())
    if os.environ.get("STORYBOARD_CACHE"):
        cfg["url"] = os.environ["STORYBOARD_CACHE"]
    if os.environ.get("STORYBOARD_CACHE_LOCAL"):
        cfg["local"] = os.environ["STORYBOARD_CACHE_LOCAL"]
    return cfg


def object_url() -> str | None:
    """The configured cache's URL when it is on object storage, else None (a local folder)."""
    url = str(configured().get("url") or "")
    return url if url and is_object_url(url) else None


def open_cache(url: str | None = None) -> Cache:
    """The configured cache (or the one `url` names): a local folder, or object storage."""
    url = url or str(configured().get("url") or "")
    if url and is_object_url(url):
        return ObjectCache(url)
    return Cache(Path(url) if url else None)


# -- one request at a time, across machines, on object storage -------------------------------------

class ObjectClaim(Claim):
    """The per-request claim in a shared bucket (the rules are Claim's): created with
    `If-None-Match: *`, its version is the object's ETag; a takeover replaces exactly the version
    judged stale (`If-Match`), a beat rewrites our own, a release deletes our own. A dead owner's
    claim waits `dead_grace` seconds before it is taken: a cluster reschedules a killed worker's
    task at once, and that worker's create may still be in flight at the provider, so the journal's
    unclear intent is looked up once that job can be listed, not before."""

    def __init__(self, store: ObjectStore, key: str, beat: float = 2.0, stale_after: float = 30.0, poll: float = 0.2,
                 dead_grace: float = 5.0):
        super().__init__(beat, stale_after, poll, dead_grace)
        self.store, self.key = store, key
        self._etag: str | None = None

    def _create(self, data: bytes) -> bool:
        self._etag = self.store.create(self.key, data)
        return self._etag is not None

    def _read(self) -> tuple[bytes, Any] | None:
        return self.store.read(self.key)

    def _swap(self, data: bytes, version: Any) -> bool:
        self._etag = self.store.replace(self.key, data, version)
        return self._etag is not None

    def _rewrite(self, count: int) -> bool:
        etag = self.store.replace(self.key, self._content(count), self._etag or "")
        if etag is None:
            return False
        self._etag = etag
        return True

    def _remove(self, version: Any) -> bool:
        return self.store.delete(self.key, version)

    def _mine(self) -> Any:
        etag, self._etag = self._etag, None
        return etag


def _doc(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class ObjectCache(Cache):
    """The Cache interface on object storage, with a local read-through copy under `root`."""

    def __init__(self, url: str | None = None, local: Path | str | None = None, limit: int | None = None,
                 store: ObjectStore | None = None):
        if getattr(self, "_opened", False):
            return  # Cache() handed us out already made (Cache.__new__), and Python calls __init__ again
        cfg = configured()
        url = url or str(cfg.get("url") or "")
        self.store = store or open_store(url, cfg.get("endpoint_url"))
        self.url = self.store.url
        if local is None:
            local = cfg.get("local")
        if local is None:
            from platformdirs import user_cache_dir
            from storyboard.common import digest
            local = Path(user_cache_dir("storyboard")) / "objects" / digest({"url": self.url})[:16]
        self.root = Path(local)
        gb = cfg.get("local_limit_gb")
        self.limit = limit if limit is not None else (int(float(gb) * 2**30) if gb is not None else DEFAULT_LOCAL_LIMIT)
        self._etags: dict[tuple[str, str], str | None] = {}  # journals: the version this process last read
        self._bad: dict[tuple[str, str], str] = {}  # (key, file) -> what was wrong with its object
        self._used: set[str] = set()  # entries this process has served: never evicted under it
        self._lock = threading.Lock()
        self._local_bytes: int | None = None
        self._opened = True

    def __reduce__(self):  # to a worker process: it opens the same bucket (credentials are its own)
        return (ObjectCache, (self.url, None, self.limit))

    @classmethod
    def of(cls, entry: Entry) -> Cache:
        return entry.source if entry.source is not None else Cache(entry.folder.parents[2])

    def _obj(self, key: str, name: str) -> str:
        return f"clips/{key[:2]}/{key}/{name}"

    READS_AT_ONCE = 8  # each read is a round trip to the bucket (s3fs's connection pool holds 10)

    # -- entries ------------------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        try:
            got = self.store.read(self._obj(key, "meta.json"))
        except OSError as e:
            raise OSError(f"cannot read the cache {self.url}: {describe_error(e)}") from None
        if got is None:
            return None
        try:
            meta = json.loads(got[0])
        except ValueError:
            meta = {"key": "?", "damaged": "its meta.json is not JSON"}
        if not isinstance(meta, dict):
            meta = {"key": "?", "damaged": "its meta.json is not a record"}
        return Entry(key, self._dir(key), meta, source=self)

    def fetch(self, entry: Entry, name: str) -> Path:
        """The local copy of one of an entry's files, fetched from the store if missing (and checked
        by size and sha256 as it arrives; a bad object is not installed: see `check`)."""
        path = entry.folder / name
        rec = (entry.meta.get("objects") or {}).get(name)
        with self._lock:
            self._used.add(entry.key)
        if not isinstance(rec, dict):
            return path
        try:
            if path.stat().st_size == int(rec.get("bytes", -1)):
                os.utime(entry.folder)  # recently used
                return path
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(path)
        try:
            if not self.store.download(str(rec.get("object")), tmp):
                self._bad[(entry.key, name)] = f"its {name} is missing from {self.url}"
                return path
            problem = check_file(tmp, int(rec.get("bytes", -1)), str(rec.get("sha256")), rehash=True)
            if problem is not None:
                self._bad[(entry.key, name)] = f"its {name} in {self.url}: {problem}"
                return path
            publish(tmp, path)
            seal_file(path)
        finally:
            tmp.unlink(missing_ok=True)
        self._bad.pop((entry.key, name), None)
        with self._lock:
            self._local_bytes = None if self._local_bytes is None else self._local_bytes + int(rec["bytes"])
        self._trim()
        return path

    def check(self, entry: Entry, rehash: bool = False) -> str | None:
        if entry.meta.get("damaged"):
            return entry.meta["damaged"]
        problem = super().check(entry, rehash)  # entry.clip fetches a missing local copy
        if problem is not None and (entry.key, "clip.mp4") not in self._bad:
            (entry.folder / "clip.mp4").unlink(missing_ok=True)  # the local copy went bad: fetch it again
            problem = super().check(entry, True)
        return self._bad.get((entry.key, "clip.mp4"), problem)

    def seal(self, entry: Entry, **verified) -> Entry:
        return entry  # entries on object storage are sealed when published

    def quarantine(self, key: str) -> Path | None:
        """Make the entry invisible (its meta deleted on the ETag read, so only one process does it and
        a new entry published meanwhile stays), then move the objects it named under bad/."""
        shutil.rmtree(self._dir(key), ignore_errors=True)
        meta_key = self._obj(key, "meta.json")
        got = self.store.read(meta_key)
        if got is None or not self.store.delete(meta_key, got[1]):
            return None
        stamp = f"bad/{key}.{time.strftime('%Y%m%d-%H%M%S')}.{owner_tag()}"
        self.store.put(f"{stamp}/meta.json", got[0])
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            named = [r.get("object") for r in (json.loads(got[0]).get("objects") or {}).values()]
            house = self.store.read(self._obj(key, "house.json"))
            if house is not None:
                named += [r.get("object") for r in json.loads(house[0]).values()]
                self.store.delete(self._obj(key, "house.json"), house[1])
            for obj in named:
                if isinstance(obj, str) and self.store.copy(obj, f"{stamp}/{obj.rsplit('/', 1)[-1]}"):
                    self.store.delete(obj)
        return Path(stamp)

    def publish(self, key: str, staged: Path, meta: dict) -> Entry:
        """Upload the staged files under a fresh name, check their stored sizes, then create the
        meta object that makes the entry visible; when another process published it first, theirs
        is served (if whole) and ours removed."""
        meta = {**meta, **_clip_fields(staged / "clip.mp4")}
        nonce = uuid.uuid4().hex[:12]
        objects = {}
        for f in sorted(p for p in staged.iterdir() if p.is_file() and not p.name.startswith(".")):
            rec = seal_file(f)
            obj = self._obj(key, f"{nonce}/{f.name}")
            self.store.put(obj, f.read_bytes())
            if self.store.size(obj) != rec["bytes"]:
                raise OSError(f"the upload of {f.name} to {self.url} is incomplete")
            objects[f.name] = {"object": obj, **rec}
        meta["objects"] = objects
        meta_key = self._obj(key, "meta.json")
        for _ in range(3):
            if self.store.create(meta_key, _doc(meta)) is not None:
                break
            theirs = self.get(key)
            if theirs is not None and self.check(theirs) is None:  # another process published it first
                for rec in objects.values():
                    self.store.delete(rec["object"])
                shutil.rmtree(staged, ignore_errors=True)
                return theirs
            self.quarantine(key)  # a broken leftover: replace it
        else:
            raise OSError(f"cannot publish {key[:12]} in {self.url}: it keeps changing")
        self._drop_leftovers(key, meta)
        final = self._dir(key)
        shutil.rmtree(final, ignore_errors=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staged, final)  # the local read-through copy of what we just uploaded
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)  # another process's copy is there: fetched if needed
        else:
            seal_file(final / "clip.mp4")
        with self._lock:
            self._used.add(key)
            self._local_bytes = None
        self._trim()
        return Entry(key, final, meta, source=self)

    def _drop_leftovers(self, key: str, meta: dict) -> None:
        """Delete the parts of this request that no entry names: uploads of a process killed before
        its meta was created. Only the publisher does it, holding the request's claim, so no live
        upload of this request is under way."""
        keep = {rec["object"] for rec in meta["objects"].values()} | {self._obj(key, "meta.json"),
                                                                      self._obj(key, "house.json")}
        house = self._obj(key, "house/")
        for obj in self.store.keys(self._obj(key, "")):
            if obj not in keep and not obj.startswith(house):
                self.store.delete(obj)

    # -- conformed copies --------------------------------------------------------------------------
    def _house(self, key: str) -> tuple[dict, str | None]:
        got = self.store.read(self._obj(key, "house.json"))
        if got is None:
            return {}, None
        try:
            data = json.loads(got[0])
        except ValueError:
            data = {}
        return (data if isinstance(data, dict) else {}), got[1]

    def check_house_copies(self, entry: Entry, frames_of: Callable[[Path], int], rehash: bool = True) -> list[str]:
        """Fetch the conformed copies another machine made (checked as they arrive), then check the
        local ones as the local cache does."""
        remote, _ = self._house(entry.key)
        local = self.record_in(entry, "house.json")
        changed = False
        for name, rec in remote.items():
            path = entry.folder / name
            if name in local and path.exists() or not isinstance(rec, dict):
                continue
            tmp = temp_name(path)
            try:
                if (self.store.download(str(rec.get("object")), tmp)
                        and check_file(tmp, int(rec.get("bytes", -1)), str(rec.get("sha256")), True) is None):
                    publish(tmp, path)
                    local[name] = {"bytes": rec["bytes"], "sha256": rec["sha256"]}
                    changed = True
            finally:
                tmp.unlink(missing_ok=True)
        if changed:
            atomic_write_json(entry.folder / "house.json", local)
        return super().check_house_copies(entry, frames_of, rehash)

    def seal_house_copies(self, entry: Entry) -> None:
        """Record the copies locally, upload the new ones, then add them to the shared record by
        compare-and-swap (a concurrent cut's additions are kept)."""
        super().seal_house_copies(entry)
        local = self.record_in(entry, "house.json")
        remote, etag = self._house(entry.key)
        uploaded: dict[str, dict] = {}
        for _ in range(5):
            new = {n: r for n, r in local.items() if n not in remote and (entry.folder / n).is_file()}
            if not new:
                return
            for name, rec in new.items():
                if name not in uploaded:
                    obj = self._obj(entry.key, f"house/{uuid.uuid4().hex[:12]}-{name}")
                    self.store.put(obj, (entry.folder / name).read_bytes())
                    uploaded[name] = {"object": obj, **rec}
            doc = _doc({**remote, **{n: uploaded[n] for n in new}})
            key = self._obj(entry.key, "house.json")
            if (self.store.create(key, doc) if etag is None else self.store.replace(key, doc, etag)) is not None:
                return
            remote, etag = self._house(entry.key)

    # -- the local read-through copy ---------------------------------------------------------------
    def _trim(self) -> None:
        """Keep the local copies under the limit: least recently used entries first, never one this
        process served (it may be about to be cut)."""
        with self._lock:
            if self._local_bytes is not None and self._local_bytes <= self.limit:
                return
            folders = []
            total = 0
            for folder in (self.root / "clips").glob("*/*"):
                size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
                total += size
                folders.append((folder.stat().st_mtime, folder, size))
            for _, folder, size in sorted(folders):
                if total <= self.limit:
                    break
                if folder.name in self._used:
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                total -= size
            self._local_bytes = total

    def sweep(self, keys: list[str] = ()) -> list[Path]:
        gone = super().sweep(keys)  # the local scratch: staging folders, temporary files
        for name in self.store.keys("locks/"):
            if name.endswith(".lock") and ObjectClaim(self.store, name).clear_if_abandoned():
                gone.append(Path(name))
        return gone

    def request_lock(self, key: str) -> ObjectClaim:
        return ObjectClaim(self.store, f"locks/{key}.lock")

    # -- takes ---------------------------------------------------------------------------------------
    def take(self, base_key: str) -> int:
        got = self.store.read(f"takes/{base_key}")
        try:
            return int(got[0].decode().strip()) if got else 1
        except ValueError:
            return 1

    def raise_take(self, base_key: str, take: int) -> None:
        key = f"takes/{base_key}"
        for _ in range(10):
            got = self.store.read(key)
            if got is None:
                if self.store.create(key, f"{take}\n".encode()) is not None:
                    return
                continue
            try:
                if int(got[0].decode().strip()) >= take:
                    return
            except ValueError:
                pass
            if self.store.replace(key, f"{take}\n".encode(), got[1]) is not None:
                return

    # -- records: journals (compare-and-swap), failures, claims of provider jobs --------------------
    def record(self, kind: str, name: str) -> dict | None:
        got = self.store.read(f"{kind}/{name}.json")
        self._etags[(kind, name)] = got[1] if got else None
        if got is None:
            return None
        try:
            return json.loads(got[0])
        except ValueError:
            return None

    def save_record(self, kind: str, name: str, data: dict[str, Any]) -> None:
        key, doc = f"{kind}/{name}.json", _doc(data)
        if kind != "jobs":
            self.store.put(key, doc)
            return
        if (kind, name) not in self._etags:
            self.record(kind, name)
        etag = self._etags[(kind, name)]
        new = self.store.create(key, doc) if etag is None else self.store.replace(key, doc, etag)
        if new is None:
            raise ClaimLost(f"another process took over the request of shot '{data.get('shot', name[:12])}' "
                            f"while this one worked on it (its journal in {self.url} changed); "
                            "run again: the jobs already paid for are re-attached")
        self._etags[(kind, name)] = new

    def drop_record(self, kind: str, name: str) -> None:
        self.store.delete(f"{kind}/{name}.json")
        self._etags.pop((kind, name), None)

    def claim(self, backend: str, job_id: str, owner: dict, certain: bool) -> bool:
        key = f"claims/{self._claim_name(backend, job_id)}.json"
        if certain:
            self.store.put(key, _doc(owner))
            return True
        if self.store.create(key, _doc(owner)) is not None:
            return True
        return self.record("claims", key[7:-5]) == owner

    def claimed_by_another(self, backend: str, job_id: str, owner: dict) -> bool:
        got = self.record("claims", self._claim_name(backend, job_id))
        return got is not None and got != owner


def check_url(url: str) -> None:
    """Refuse a cache URL that is neither a folder nor object storage we can write safely."""
    if is_object_url(url):
        open_store(url)
    elif "://" in url and not url.startswith("file://"):
        raise UsageError(f"cannot use {url} as the cache")
