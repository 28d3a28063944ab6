"""``scipy.special``, imported on first use, or ahead of time on a background thread.

Importing it costs ~0.2 s (it pulls in scipy's array-API layer), and a ``drift compare`` run
first needs it after DuckDB has opened the files and fetched the first columns. The CLI starts
the import on a thread at once (:func:`preload`), so it overlaps with that I/O; everything else
asks :func:`special`, which waits for a preload in progress (Python's per-module import lock).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType


def special() -> ModuleType:
    """The ``scipy.special`` module (imported now if nobody has yet)."""
    return importlib.import_module("scipy.special")


def preload() -> threading.Thread:
    """Start importing ``scipy.special`` on a daemon thread; returns the thread."""
    thread = threading.Thread(target=special, name="preload-scipy-special", daemon=True)
    thread.start()
    return thread
