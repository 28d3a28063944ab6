"""``keep_freed_memory`` is safe to call (any platform, twice) and only tunes malloc."""

from __future__ import annotations

import sys

from governance.drift.memory import keep_freed_memory


def test_keep_freed_memory_is_idempotent() -> None:
    """True on Linux/glibc (this machine), False elsewhere; a second call changes nothing."""
    first, second = keep_freed_memory(), keep_freed_memory()
    assert first == second
    if not sys.platform.startswith("linux"):
        assert first is False
