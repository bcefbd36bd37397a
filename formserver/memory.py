"""Keeping a long-running worker's memory level: glibc's allocator told to give freed memory back.

Over a soak a worker's Python objects stayed flat while its RSS rose (README › Reliability). glibc keeps
what threads free in per-thread arenas, and once a large block is freed (a sign-in's 32 MiB scrypt) it
raises its mmap threshold, so later large blocks (an export's buffers) come from the arenas and their
pages stay with the process. Fixed thresholds and two arenas keep large blocks out of the arenas, and
``give_back`` after large work (an export, a thread ending) returns free pages to the system. Elsewhere
(musl, macOS) both do nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
LARGE_BLOCK = 128 * 1024  # glibc's own starting threshold, kept from moving


@functools.cache
def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def tune() -> bool:
    """Set the allocator for a server worker, before it allocates much; False where it is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt(M_ARENA_MAX, 2)
    libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
    libc.mallopt(M_TRIM_THRESHOLD, LARGE_BLOCK)
    return True


def give_back() -> None:
    """Return the free pages of every arena to the system (a few milliseconds; call after large work)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
