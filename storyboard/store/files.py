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


def _synced(fd: int, data: bytes) -> None:
    """Write `data` to an open file descriptor, flush it to the disk and close it."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _staged(path: Path, data: bytes) -> str:
    """`data` complete and on disk under a temporary name beside `path` (swept by name if abandoned)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{owner_tag()}.", suffix=".part", dir=path.parent)
    try:
        _synced(fd, data)
        os.chmod(tmp, 0o666 & ~UMASK)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over `path`."""
    tmp = _staged(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
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
class RequestLock:
    """An exclusive lock on a file in a shared folder, held by one process on one machine at a time.

    Chosen to work where teams keep a shared cache (NFS, SMB) as well as on a local disk:
    - taken by creating the lock file with O_CREAT|O_EXCL, which is atomic on local file systems,
      on NFSv3/v4 (an exclusive CREATE at the server) and on SMB (a create-new disposition);
      flock/fcntl locks are not: flock is local-only on some NFS and SMB clients, fcntl locks
      need lockd (a `nolock` mount silently makes them local) or the client's byte-range support
      (`nobrl`), and both are per process, so threads of one process would share them. A lock
      that silently is not one is worse than none;
    - the file names its owner (host, pid, a nonce) and carries a heartbeat counter the owner
      rewrites every `beat` seconds; a waiter takes the lock over when the owner is a dead process
      on its own machine, or when it has watched the content stay the same for `stale_after`
      seconds of its own clock (so no clocks are compared across machines, and NFS attribute
      caching cannot fake a beat: the content is read after an open, which revalidates);
    - a takeover renames the stale file aside (one rename wins), checks it moved the very content
      it judged stale, and otherwise puts it back: a live owner is never robbed by two waiters
      racing."""

    def __init__(self, path: Path, beat: float = 2.0, stale_after: float = 30.0, poll: float = 0.2):
        self.path = Path(path)
        self.beat, self.stale_after, self.poll = beat, stale_after, poll
        self.nonce = uuid.uuid4().hex
        self.lost = False  # set if another process displaced this lock while it was held
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: bytes | None = None
        self._seen_at = 0.0

    def _content(self, count: int) -> bytes:
        doc = json.dumps({"host": HOST, "tag": HOST_TAG, "pid": os.getpid(), "nonce": self.nonce, "beat": count,
                          "since": time.time()})
        return doc.encode().ljust(384)  # the same length every beat: a rewrite never leaves a tail

    def _create(self, data: bytes) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return True

    def acquire(self, cancelled: threading.Event | None = None, waiting: Callable[[], None] = lambda: None) -> None:
        """Block until the lock is ours. `waiting` is called once if it is not free at first;
        `cancelled` set (Ctrl-C) makes the wait end with KeyboardInterrupt."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        told = False
        while True:
            if self._create(self._content(0)):
                self._thread = threading.Thread(target=self._heartbeat, name="lock-heartbeat", daemon=True)
                self._thread.start()
                return
            if self._stale():
                self._take_over()
                continue
            if not told:
                told = True
                waiting()
            if cancelled is not None:
                if cancelled.wait(self.poll):
                    raise KeyboardInterrupt
            else:
                time.sleep(self.poll)

    def _stale(self) -> bool:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return False  # released meanwhile: try again at once
        except OSError:
            return False
        now = time.monotonic()
        try:
            owner = json.loads(data)
            if owner.get("tag") == HOST_TAG and not pid_alive(int(owner["pid"])):
                self._seen = data
                return True
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # half written (the owner is creating it), or torn by a beat: alive
        if data != self._seen:
            self._seen, self._seen_at = data, now
            return False
        return now - self._seen_at >= self.stale_after

    def _take_over(self) -> None:
        aside = self.path.with_name(f".{self.path.name}.{owner_tag()}-{uuid.uuid4().hex[:8]}.part")
        try:
            os.rename(self.path, aside)
        except OSError:
            return  # someone else took it over, or the owner released it
        try:
            if aside.read_bytes() != self._seen:  # we moved a live lock (a beat just landed): put it back
                self._create(aside.read_bytes())
        finally:
            with contextlib.suppress(OSError):
                aside.unlink()
            self._seen = None

    def clear_if_abandoned(self) -> bool:
        """Remove the lock file if its owner is a dead process on this machine (the sweep)."""
        if not self.path.exists() or not self._stale() or self._seen is None:
            return False
        self._take_over()
        return not self.path.exists()

    def _heartbeat(self) -> None:
        count = 0
        while not self._stop.wait(self.beat):
            count += 1
            try:
                with open(self.path, "r+b") as f:
                    if json.loads(f.read()).get("nonce") != self.nonce:
                        self.lost = True
                        return
                    f.seek(0)
                    f.write(self._content(count))
                    f.flush()
                    os.fsync(f.fileno())
            except (OSError, ValueError, AttributeError):
                self.lost = True
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            with open(self.path, "rb") as f:
                mine = json.loads(f.read()).get("nonce") == self.nonce
        except (OSError, ValueError, AttributeError):
            mine = False
        if mine:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def __enter__(self) -> "RequestLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
