"""Keep a long run's memory flat: glibc's allocator, told to hand big buffers back.

A run reads thousands of pages of 50-500 KB each, in several threads. glibc serves a
buffer that size with mmap at first, but each time one is freed it raises its mmap
threshold to that size, so later pages are carved from the threads' heaps instead, where
they fragment: the monitor process grew with the number of pages, and by a different
amount each time (3,000 pages: 256 to 291 MB at peak over three runs), though it never
holds more than three batches. With a fixed threshold and two heaps it stays flat
(237 to 238 MB; 10,000 pages 243 MB). Python's own small objects are not affected.

Only glibc on Linux is tuned. A value the operator sets through glibc's own variables
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_ARENA_MAX``) is left as it is.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
M_ARENA_MAX = -8

# (mallopt parameter, glibc's own environment variable for it, the value set here)
TUNING = (
    (M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", 128 * 1024),
    (M_ARENA_MAX, "MALLOC_ARENA_MAX", 2),
)


def glibc() -> ctypes.CDLL | None:
    """Return the process's C library if it is glibc on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    if not version.startswith("glibc"):
        return None
    try:
        return ctypes.CDLL(None)  # the symbols already loaded into this process
    except OSError:
        return None


@functools.cache
def limit_heap_growth() -> dict[str, int]:
    """Tune glibc's allocator once per process; return the variables set, with values."""
    libc = glibc()
    if libc is None:
        return {}
    applied = {}
    for parameter, variable, value in TUNING:
        if variable in os.environ:
            continue  # the operator's choice, already read by glibc at start-up
        if libc.mallopt(ctypes.c_int(parameter), ctypes.c_int(value)) == 1:
            applied[variable] = value
    return applied
