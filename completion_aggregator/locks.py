"""
Cache-held locks of the service and cleanup runs: an owner record, a heartbeat, takeover of a dead owner.

The lock is one key in Django's ``default`` cache. Its value names the owner::

    {"token": "<uuid hex>", "host": "<socket.gethostname()>", "pid": 4242, "heartbeat": 1800000000.0}

``heartbeat`` is the owner's clock (seconds since the epoch) when it last showed it was alive;
the owner refreshes it every ``HEARTBEAT_SECONDS`` from a background thread, and at each batch
of its run. The next run takes over a lock whose owner is gone (docs/operations.rst, "Locks"):

* the owner ran on this host and its pid no longer runs (killed, crashed, out of memory);
* or its heartbeat is older than ``STALE_AFTER_SECONDS`` (any host: the host was lost, or the
  process hangs without its heartbeat thread).

A live owner is respected. A value written by an older release (a bare token) has no owner to
check and is respected until the cache expires it (the ``timeout``).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache

log = logging.getLogger(__name__)

#: A heartbeat older than this (seconds) means the owner is gone, whatever its host.
STALE_AFTER_SECONDS = 60
#: How often (seconds) a held lock refreshes its heartbeat from its background thread.
HEARTBEAT_SECONDS = 15

Clock = Callable[[], float]


class LockHeld(RuntimeError):
    """Another run holds the lock."""


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (signal 0: nothing is sent)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, under another user
        return True
    return True


def owner_gone(record: Any, now: float) -> str | None:
    """
    Why the owner of lock value ``record`` is gone, or None if it may be alive.

    ``now``: the taker's clock, seconds since the epoch. A value that is not an owner record
    (a bare token from an older release) is never taken over.
    """
    if not isinstance(record, dict) or not {"token", "host", "pid", "heartbeat"} <= set(record):
        return None
    if record["host"] == socket.gethostname() and not pid_alive(int(record["pid"])):
        return f"process {record['pid']} no longer runs on this host"
    age = now - float(record["heartbeat"])
    if age > STALE_AFTER_SECONDS:
        return f"no heartbeat for {age:.0f} s"
    return None


def _describe(record: Any) -> str:
    if isinstance(record, dict):
        return f"{record.get('host')} pid {record.get('pid')}"
    return "an older release"


class HeldLock:
    """A lock this run holds: its token, and :meth:`beat` to show it is alive."""

    def __init__(self, name: str, timeout: int, clock: Clock) -> None:
        self.name = name
        self.timeout = timeout
        self.clock = clock
        self.token = uuid.uuid4().hex
        self._beating = threading.Lock()

    def record(self) -> dict[str, Any]:
        """The owner record stored in the cache, with the heartbeat of now."""
        return {"token": self.token, "host": socket.gethostname(), "pid": os.getpid(), "heartbeat": self.clock()}

    def mine(self) -> bool:
        """Whether the cache still holds this run's lock."""
        current = cache.get(self.name)
        return isinstance(current, dict) and current.get("token") == self.token

    def beat(self) -> bool:
        """
        Refresh the heartbeat (and the cache expiry); False if another run took the lock over.

        A run that gets False should stop at once: the lock is no longer its own.
        """
        with self._beating:
            if not self.mine():
                return False
            cache.set(self.name, self.record(), self.timeout)
            return True

    def release(self) -> None:
        """Delete the lock if it is still this run's (never a later owner's)."""
        with self._beating:
            if self.mine():
                cache.delete(self.name)


def _acquire(held: HeldLock) -> None:
    name = held.name
    if cache.add(name, held.record(), held.timeout):
        return
    current = cache.get(name)
    if current is None and cache.add(name, held.record(), held.timeout):  # it expired meanwhile
        return
    reason = owner_gone(current, held.clock())
    if reason is None:
        raise LockHeld(f"the lock {name!r} is held by {_describe(current)}")
    # One taker per dead owner: the first to add this key takes over, the others give up.
    if not cache.add(f"{name}:takeover:{current['token']}", held.token, STALE_AFTER_SECONDS):
        raise LockHeld(f"the lock {name!r} is being taken over by another run")
    if cache.get(name) != current:
        raise LockHeld(f"the lock {name!r} changed owner meanwhile")
    cache.set(name, held.record(), held.timeout)
    log.warning("completion_aggregator: took over the lock %r from %s (%s)", name, _describe(current), reason)


@contextmanager
def cache_lock(
    name: str, timeout: int, clock: Clock = time.time, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> Iterator[HeldLock]:
    """
    Hold lock ``name`` for the duration of the block, taking it over from a dead owner.

    ``timeout``: seconds the cache keeps the key without a heartbeat (each heartbeat renews it).
    ``clock``: seconds since the epoch (tests pass a clock they move by hand). A background
    thread beats every ``heartbeat_seconds``; the run may also call :meth:`HeldLock.beat`
    itself, and should stop when it returns False.

    Raises:
        LockHeld: a live owner holds it (or another run is taking over the same dead owner).
    """
    held = HeldLock(name, timeout, clock)
    _acquire(held)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(heartbeat_seconds):
            if not held.beat():
                log.error("completion_aggregator: the lock %r was taken over by another run", name)
                return

    beater = threading.Thread(target=heartbeat, name=f"heartbeat {name}", daemon=True)
    beater.start()
    try:
        yield held
    finally:
        stop.set()
        beater.join()
        held.release()
