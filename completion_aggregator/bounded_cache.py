"""
A small bounded cache: least recently used out, optionally with a maximum age. Pure Python.

The one design of the app's in-process caches (the compiled graphs of ``api/graphs.py``, the
structures of both host adapters): a size bound, a lock so that threads of one process share
it, and no lock held while a missing value is computed (two threads may both compute it; the
later ``put`` wins, which is harmless for values that only depend on their key).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: A maximum age in seconds, or a function that reads it at each look-up (a setting); 0 or
#: less, or None: no age limit.
MaxAge = float | Callable[[], float] | None


class BoundedCache(Generic[K, V]):
    """
    At most ``max_size`` values by key; the least recently used goes first when it is full.

    ``max_age``: seconds after its ``put`` that a value stops being returned (a number, or a
    function called at each :meth:`get` so a setting's changes apply at once; 0 or less, or
    None: kept until evicted). ``clock``: the time source, in seconds (``time.monotonic``).
    Values are never None (None means a miss). Thread-safe; ``len()`` is the number of values
    held (expired ones included until they are looked up or evicted).

    Raises:
        ValueError: ``max_size`` is less than 1.
    """

    def __init__(
        self, max_size: int, max_age: MaxAge = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, not {max_size}")
        self.max_size = max_size
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def _age_limit(self) -> float:
        limit = self._max_age() if callable(self._max_age) else self._max_age
        return float(limit or 0)

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None if missing or too old."""
        limit = self._age_limit()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if limit > 0 and self._clock() - entry[0] >= limit:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key`` (replacing any), evicting the least recently used beyond ``max_size``."""
        now = self._clock()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """
        The value under ``key``, or ``compute()`` kept under it when missing or too old.

        ``compute`` runs without the lock held; what it raises propagates and nothing is kept.
        """
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
