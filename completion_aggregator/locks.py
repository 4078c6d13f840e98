"""Cache-held locks with an owner token: only the holder releases, a dead holder's lock expires."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from django.core.cache import cache


class LockHeld(RuntimeError):
    """Another run holds the lock."""


@contextmanager
def cache_lock(name: str, timeout: int) -> Iterator[str]:
    """
    Hold lock ``name`` for the duration of the block (at most ``timeout`` seconds).

    Raises:
        LockHeld: another owner holds it.
    """
    token = uuid.uuid4().hex
    if not cache.add(name, token, timeout):
        raise LockHeld(f"the lock {name!r} is held by another run")
    try:
        yield token
    finally:
        if cache.get(name) == token:
            cache.delete(name)
