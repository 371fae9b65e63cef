"""Atomic file writes, the one-writer lock of an output folder, the per-request lock of the shared
cache, and the sweep of temporary files a killed run left: nothing appears under a final name
half-written, and nothing of ours lingers under a temporary one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from storyboard.errors import Locked, UsageError

UMASK = os.umask(0o022)
os.umask(UMASK)  # read once at import: files we publish get the user's usual permissions
HOST = socket.gethostname()
HOST_TAG = hashlib.sha256(HOST.encode()).hexdigest()[:8]  # in temporary names: safe characters, fixed length
STALE_SECONDS = 24 * 3600  # another machine's temporary file this old is abandoned


def owner_tag() -> str:
    """This process as written into temporary names (host and pid), so a later run can tell
    a dead owner's leftovers from a live one's work."""
    return f"{HOST_TAG}-{os.getpid()}"


_OWNER = re.compile(r"(?:^|[.-])(?P<host>[0-9a-f]{8})-(?P<pid>\d+)(?=[.-])")


def owner_alive(name: str) -> bool | None:
    """Is the process named in a temporary file's name still running? None when it cannot be
    told from here (another machine, or a name with no owner in it)."""
    m = _OWNER.search(name)
    if not m or m.group("host") != HOST_TAG:
        return None
    return pid_alive(int(m.group("pid")))


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _synced(fd: int, data: bytes, durable: bool = True) -> None:
    """Write `data` to an open file descriptor, flush it to the disk (when `durable`) and close it."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())


def _staged(path: Path, data: bytes, durable: bool = True) -> str:
    """`data` complete (and on disk, when `durable`) under a temporary name beside `path` (swept by
    name if abandoned)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{owner_tag()}.", suffix=".part", dir=path.parent)
    try:
        _synced(fd, data, durable)
        os.chmod(tmp, 0o666 & ~UMASK)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over `path`. Not `durable`:
    no fsync, for what can be made again (a reader still sees the whole file or none)."""
    tmp = _staged(path, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def create_exclusive_json(path: Path, data: Any) -> bool:
    """Write `path` only if it does not exist, complete or not at all (a hard link of a finished
    temporary file; where the file system has no hard links, an exclusive create). False if it
    existed."""
    raw = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    tmp = _staged(path, raw)
    try:
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here (some SMB servers)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~UMASK)
            except FileExistsError:
                return False
            _synced(fd, raw)
            return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def publish(tmp: Path, final: Path) -> None:
    """Move a finished file (written under a temporary name in the same folder) to its final name."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def temp_name(final: Path) -> Path:
    """A temporary name beside `final` that keeps its extension (ffmpeg picks formats by it) and
    names its owner (see `sweep`)."""
    return final.with_name(f".{final.stem}.{owner_tag()}.part{final.suffix}")


TEMP_PATTERNS = (".*.part*", ".work-*", "stage-*")  # what this tool writes before a final name


def sweep(folder: Path, patterns: tuple[str, ...] = TEMP_PATTERNS, everything: bool = False) -> list[Path]:
    """Remove the temporary files and folders a killed run left in `folder`: those of a dead process
    on this machine, or (another machine's) older than a day; all of them with `everything` (the
    caller holds the folder's one-writer lock). Returns what was removed."""
    gone = []
    cutoff = time.time() - STALE_SECONDS
    for pattern in patterns:
        for p in folder.glob(pattern):
            try:
                alive = owner_alive(p.name)
                if not everything and (alive or (alive is None and p.lstat().st_mtime > cutoff)):
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                gone.append(p)
            except OSError:
                continue
    return gone


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def folder_lock(folder: Path, name: str = ".storyboard.lock", busy: str | None = None) -> Iterator[None]:
    """One writer per output folder (or per `name` in it): an OS lock that dies with the process;
    `busy` is the message when another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / name
    f = open(lock_path, "a+")
    try:
        try:
            if os.name == "nt":  # pragma: no cover - exercised on Windows only
                import msvcrt
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Locked(busy or f"{folder} is being written by another storyboard process; wait for it or use --out") from None
        yield
    finally:
        f.close()


# -- the output folder: only what this tool wrote there ------------------------------------------
MARKER = ".storyboard-out"  # written first into every output folder: which files are the tool's
_OURS = re.compile(r"^(\.storyboard\.lock|\.storyboard-serve(\.lock|-cut)|\.storyboard-out|\..*\.part.*|\.work-.*)$")


def written(folder: Path, legacy: re.Pattern | None = None) -> set[str]:
    """The names the tool wrote into an output folder, from its marker: the only ones it deletes there. In a folder from before
    markers: the names matching `legacy` (how the tool names what it writes into a subfolder) or,
    with no pattern, every name if its manifest is a storyboard manifest."""
    try:
        return set(json.loads((folder / MARKER).read_text("utf-8")).get("files", []))
    except (OSError, ValueError, AttributeError):
        pass
    if legacy is not None:
        try:
            return {p.name for p in folder.iterdir() if legacy.match(p.name)}
        except OSError:
            return set()
    try:
        legacy_doc = json.loads((folder / "manifest.json").read_text("utf-8"))
        if isinstance(legacy_doc, dict) and {"storyboard", "backend", "shots"} <= set(legacy_doc):
            return {p.name for p in folder.iterdir()}
    except (OSError, ValueError):
        pass
    return set()


def _foreign(folder: Path, legacy: re.Pattern | None = None) -> list[str]:
    known = written(folder, legacy)
    return sorted(p.name for p in folder.iterdir() if p.name not in known and not _OURS.match(p.name))


def no_link(folder: Path) -> None:
    """Refuse a folder the tool writes into that is a symbolic link (--force or not): it never writes
    or deletes through a link into a folder somewhere else."""
    if folder.is_symlink():
        raise UsageError(f"{folder} is a symbolic link (to {os.readlink(folder)}); storyboard never writes or "
                         f"deletes through a link: remove the link, or choose another --out")


def check_output_folder(folder: Path, force: bool = False, inner: dict[str, re.Pattern | None] | None = None) -> None:
    """Refuse (before writing anything there) an output folder holding files this tool did not
    write, unless `force`. `inner` names the subfolders the tool writes into (review/, media/),
    each with how the tool names its files there (None: only the link check): one that is a
    symbolic link is refused even with `force`; one holding files the tool did not write is
    refused unless `force`."""
    there = next((p for p in (folder, *folder.parents) if p.exists()), None)  # the folder, or what it is made in
    if there is not None and not there.is_dir():
        raise UsageError(f"{there} is a file, not a folder; name a folder for --out (it is made if missing)")
    if not folder.is_dir():
        return
    for name in inner or {}:
        no_link(folder / name)
    foreign = _foreign(folder)
    for name, legacy in (inner or {}).items():
        sub = folder / name
        if legacy is not None and name not in foreign and sub.is_dir():
            foreign += [f"{name}/{f}" for f in _foreign(sub, legacy)]
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UsageError(f"{folder} holds files storyboard did not write ({shown}); choose another --out, "
                         "or pass --force to write into it anyway")


def mark_output_folder(folder: Path, names: list[str], exact: bool = False, legacy: re.Pattern | None = None) -> None:
    """Record that `names` in `folder` are the tool's (written before the files themselves); with
    `exact`, that only they are (once the others are deleted)."""
    before = set() if exact else written(folder, legacy)
    data = {"written_by": "storyboard", "files": sorted(before | set(names))}
    with contextlib.suppress(OSError, ValueError):
        if json.loads((folder / MARKER).read_text("utf-8")) == data:
            return  # as it is: a re-run that changes nothing writes nothing
    atomic_write_json(folder / MARKER, data)


# -- one request at a time, across processes and machines ------------------------------------------
class Claim:
    """One process's hold on a request, wherever the hold lives (a file in a shared folder: RequestLock;
    an object in a bucket: store.shared.ObjectClaim), with one set of rules:
    - taken by an exclusive create: one of any number of processes, on any machines, wins;
    - the hold names its owner (host, pid, a nonce) and a heartbeat counter the owner rewrites every
      `beat` seconds, only over the version it last wrote: finding another's there means it was
      taken over (`lost`); a store that does not answer is tried again until a waiter could judge
      the hold stale;
    - a waiter judges it stale when its owner is a dead process on the waiter's machine (after
      `dead_grace` seconds, for a request the dead process may still have in flight), or when it
      has watched the version stay the same for `stale_after` seconds of its own clock (no clocks
      are compared across machines);
    - a stale hold is taken over by a swap on exactly the version judged stale, so of two takers
      one wins, and a beat that lands meanwhile keeps the owner's;
    - released by removing our own version only.
    A subclass says how to create, read, swap, rewrite and remove; the waiting is here."""

    def __init__(self, beat: float = 2.0, stale_after: float = 30.0, poll: float = 0.2, dead_grace: float = 0.0):
        self.beat, self.stale_after, self.poll, self.dead_grace = beat, stale_after, poll, dead_grace
        self.nonce = uuid.uuid4().hex
        self.lost = False  # set if another process displaced this hold while it was held
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Any = None
        self._seen_at = 0.0
        self._dead_since: float | None = None

    # -- what a subclass provides ------------------------------------------------------------------
    def _create(self, data: bytes) -> bool:
        """Create the hold with `data` if there is none: True when it is now ours."""
        raise NotImplementedError

    def _read(self) -> tuple[bytes, Any] | None:
        """The hold's content and version; None when there is none; version None: unreadable now."""
        raise NotImplementedError

    def _swap(self, data: bytes, version: Any) -> bool:
        """Take over the hold seen as `version`, only if it is still that: True when it is now ours
        (False: another taker won, the owner beat, or it is free to be created anew)."""
        raise NotImplementedError

    def _rewrite(self, count: int) -> bool:
        """The heartbeat's write over our own version: False when the hold is no longer ours; OSError
        when the store does not answer."""
        raise NotImplementedError

    def _remove(self, version: Any) -> bool:
        """Remove the hold if it is still `version`: True when it is gone."""
        raise NotImplementedError

    def _mine(self) -> Any:
        """Our version of the hold, to release it; None when it is not ours (any more)."""
        raise NotImplementedError

    # -- the rules ---------------------------------------------------------------------------------
    def _content(self, count: int) -> bytes:
        return json.dumps({"host": HOST, "tag": HOST_TAG, "pid": os.getpid(), "nonce": self.nonce, "beat": count,
                           "since": time.time()}).encode()

    def acquire(self, cancelled: threading.Event | None = None, waiting: Callable[[], None] = lambda: None) -> None:
        """Block until the hold is ours. `waiting` is called once if it is not free at first;
        `cancelled` set (Ctrl-C) makes the wait end with KeyboardInterrupt."""
        told = False
        while True:
            if self._create(self._content(0)):
                return self._won()
            got = self._read()
            if got is None:
                continue  # released meanwhile: try again at once
            if self._stale(*got):
                if self._swap(self._content(0), got[1]):
                    return self._won()
                self._seen = None  # another taker won, the owner beat, or it is free: look again
                continue
            if not told:
                told = True
                waiting()
            if cancelled is not None:
                if cancelled.wait(self.poll):
                    raise KeyboardInterrupt
            else:
                time.sleep(self.poll)

    def _won(self) -> None:
        self._seen, self._dead_since, self.lost = None, None, False
        self._stop.clear()
        self._thread = threading.Thread(target=self._heartbeat, name="claim-heartbeat", daemon=True)
        self._thread.start()

    @staticmethod
    def _dead_here(data: bytes) -> bool:
        """Is the owner `data` names a dead process on this machine?"""
        try:
            owner = json.loads(data)
            return owner.get("tag") == HOST_TAG and not pid_alive(int(owner["pid"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return False  # half written (the owner is creating it), or torn by a beat: alive

    def _stale(self, data: bytes, version: Any) -> bool:
        if version is None:
            return False  # unreadable just now: not judged
        if self._dead_here(data):
            self._dead_since = self._dead_since or time.monotonic()
            return time.monotonic() - self._dead_since >= self.dead_grace
        if version != self._seen:
            self._seen, self._seen_at = version, time.monotonic()
            return False
        return time.monotonic() - self._seen_at >= self.stale_after

    def _heartbeat(self) -> None:
        count, failing_since = 0, None
        while not self._stop.wait(self.beat):
            count += 1
            try:
                ours = self._rewrite(count)
            except OSError:  # the store did not answer: try again, until a waiter could judge us stale
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > self.stale_after / 2:
                    self.lost = True
                    return
                continue
            failing_since = None
            if not ours:
                self.lost = True  # taken over: whoever holds it now owns the request
                return

    def clear_if_abandoned(self) -> bool:
        """Remove the hold if its owner is a dead process on this machine (the sweep)."""
        got = self._read()
        return got is not None and got[1] is not None and self._dead_here(got[0]) and self._remove(got[1])

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        version = None if self.lost else self._mine()
        if version is not None:
            with contextlib.suppress(OSError):
                self._remove(version)

    def __enter__(self) -> "Claim":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RequestLock(Claim):
    """The per-request lock of a cache folder, which may be shared (NFS, SMB) as well as local:
    - created with O_CREAT|O_EXCL, which is atomic on local file systems, on NFSv3/v4 (an exclusive
      CREATE at the server) and on SMB (a create-new disposition); flock/fcntl locks are not:
      flock is local-only on some NFS and SMB clients, fcntl locks need lockd (a `nolock` mount
      silently makes them local) or the client's byte-range support (`nobrl`), and both are per
      process, so threads of one process would share them. A lock that silently is not one is
      worse than none;
    - its version is its content, read after an open (which revalidates), so NFS attribute caching
      cannot fake a beat;
    - a takeover renames the stale file aside (one rename wins), checks it moved the very content
      it judged stale, and otherwise puts it back; then the lock is created anew.
    A dead owner's lock on this machine is taken over at once: the next run is someone's later
    command (a cluster's rescheduled task waits for requests in flight, see ObjectClaim)."""

    def __init__(self, path: Path, beat: float = 2.0, stale_after: float = 30.0, poll: float = 0.2,
                 dead_grace: float = 0.0):
        super().__init__(beat, stale_after, poll, dead_grace)
        self.path = Path(path)

    def _content(self, count: int) -> bytes:
        return super()._content(count).ljust(384)  # the same length every beat: a rewrite never leaves a tail

    def _create(self, data: bytes) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return True

    def _read(self) -> tuple[bytes, Any] | None:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError:
            return b"", None
        return data, data

    def _swap(self, data: bytes, version: Any) -> bool:
        self._remove(version)
        return False  # free now, or the owner's again: the next round creates it, whoever is first

    def _remove(self, version: Any) -> bool:
        aside = self.path.with_name(f".{self.path.name}.{owner_tag()}-{uuid.uuid4().hex[:8]}.part")
        try:
            os.rename(self.path, aside)
        except OSError:
            return False  # someone else took it over, or the owner released it
        try:
            moved = aside.read_bytes()
            if moved != version:  # we moved a live lock (a beat just landed): put it back
                self._create(moved)
                return False
            return True
        finally:
            with contextlib.suppress(OSError):
                aside.unlink()

    def _rewrite(self, count: int) -> bool:
        try:
            with open(self.path, "r+b") as f:
                if json.loads(f.read()).get("nonce") != self.nonce:
                    return False
                f.seek(0)
                f.write(self._content(count))
                f.flush()
                os.fsync(f.fileno())
        except (FileNotFoundError, ValueError, AttributeError):
            return False  # moved aside by a taker, or no lock of ours any more
        return True

    def _mine(self) -> Any:
        got = self._read()
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            if got is not None and got[1] is not None and json.loads(got[0]).get("nonce") == self.nonce:
                return got[1]
        return None
