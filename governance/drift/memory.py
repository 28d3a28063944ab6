"""Keep freed column buffers in the process instead of handing them back to the kernel.

A drift check allocates and frees the same few column-sized arrays (8 MB at 1M rows) hundreds
of times. glibc returns every block above its mmap threshold to the kernel on ``free``, so each
new array page-faults its memory in again: at 1M rows that is ~0.5 s of system time in a ~2 s
run. Raising the threshold (to glibc's 32 MiB maximum) and the trim threshold keeps such blocks
in the heap for reuse. Columns above 32 MiB (4M+ rows) are still mapped and unmapped as before,
so the peak memory of large checks does not change.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_MAX = 32 * 1024 * 1024  # glibc refuses more on 64-bit (HEAP_MAX_SIZE / 2)
_TRIM = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tune glibc malloc for many same-sized large arrays; True if applied (Linux/glibc).

    Process-wide, so only entry points (the ``drift compare`` CLI) call it.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM))
