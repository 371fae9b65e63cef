"""The C allocator told to give memory back. glibc's defaults suit a program that allocates and
frees small objects at a steady rate; storyboard frees large buffers (drawn layers, audio, decoded
frames) from several threads, and with the defaults the process kept what its shots had used:
each thread grows an arena of its own (8 per core), and freed pages stay in them. Here the arenas
are bounded and the free pages are handed back to the system after each shot.

Mapping every large buffer apart (MALLOC_MMAP_THRESHOLD_) or trimming on every free
(MALLOC_TRIM_THRESHOLD_) keeps a little less, but measured here it doubled the CPU the animatic's
drawing costs (page faults and zeroing on every buffer): not worth it.

Nothing here changes what a program computes; on a C library other than glibc it does nothing."""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import threading
from functools import lru_cache

M_ARENA_MAX = -8  # mallopt's parameter
ARENAS = 2  # arenas shared by every thread (glibc's default is 8 per core)
# For a child process whose memory matters more than its CPU (the voices: 28 lines peaked at 188 MB
# instead of 237, for ~10% more of its CPU, about 1% of a film's): large buffers mapped apart too.
LEANEST_ENV = {"MALLOC_ARENA_MAX": str(ARENAS), "MALLOC_MMAP_THRESHOLD_": "262144", "MALLOC_TRIM_THRESHOLD_": "262144"}

PAGE = mmap.PAGESIZE
_done = False
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _libc():
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
            return libc
    return None


def lean() -> None:
    """Bound the allocator in this process, once (before threads start, for the arenas to take)."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        libc = _libc()
        if libc is not None:
            libc.mallopt(M_ARENA_MAX, ARENAS)


HOLD = 192 * 2**20  # bytes of resident memory under which free pages are kept for the next shot


def _resident() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return HOLD + 1  # cannot tell: give back


def give_back(always: bool = False) -> None:
    """Return the allocator's free pages to the system (after a shot; `always` after a phase that
    freed much): about a millisecond, but the next shot then faults in and zeroes its buffers again,
    which cost 7% of the animatic's CPU when done after every shot; so a process holding less than
    HOLD keeps them."""
    libc = _libc()
    if libc is not None and (always or _resident() > HOLD):
        libc.malloc_trim(0)
