"""
Work that a signal receiver queues for the end of the current user action, run once per key.

One user action often reaches the app through several signals: an enrollment
sends openedx-events ``COURSE_ENROLLMENT_CHANGED`` and then ``COURSE_ENROLLMENT_CREATED``; a
cohort change sends the legacy ``COHORT_MEMBERSHIP_UPDATED`` and openedx-events
``COHORT_MEMBERSHIP_CHANGED``; a track change ``COURSE_ENROLLMENT_CHANGED`` and
``ENROLLMENT_TRACK_UPDATED``; split's ``delete_item`` one ``item_deleted`` per branch. Each
reaction is registered here under a key (e.g. ``("learner", course key, username)``); a key
already pending in the current action is not registered again, so the action costs one
aggregation (ADR 0010). The end of the action is:

* inside a database transaction: its commit (``transaction.on_commit``; a rollback or a
  rolled-back savepoint drops the work with the rows it would have read);
* outside one, inside a request or a Celery task: the end of that request
  (``request_finished``) or task (``task_postrun``);
* otherwise (a shell, a management command outside any transaction): at once, uncoalesced.

Thread-local: a request or task runs in one thread.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

from django.core.signals import request_finished, request_started
from django.db import transaction

log = logging.getLogger(__name__)

#: Pending entries kept for transactions before the ones no longer registered are dropped.
_PRUNE_AT = 1000


class _Pending:
    """One key's work waiting for a commit: its latest callback, and whether the work has run."""

    __slots__ = ("done", "last")

    def __init__(self) -> None:
        self.done = False
        self.last: Callable[[], None] | None = None


class _Action(threading.local):
    """The current thread's pending work: per transaction, and per request or task."""

    def __init__(self) -> None:
        self.depth = 0  # requests and tasks open in this thread (an eager task runs inside a request)
        self.deferred: dict[Hashable, Callable[[], None]] = {}
        self.on_commit: dict[Hashable, _Pending] = {}


_action = _Action()


def _registered(callback: Callable[[], None] | None) -> bool:
    """Whether ``callback`` still waits for the commit (a rollback removes it from the list)."""
    if callback is None:
        return False
    # From the end: the callback looked for is usually among the latest registered.
    return any(entry[1] is callback for entry in reversed(transaction.get_connection().run_on_commit))


def once_per_action(key: Hashable, work: Callable[[], None]) -> bool:
    """
    Run ``work`` once at the end of the current action, even if ``key`` is registered again.

    Returns True when ``key`` was not pending in this action (``work`` registered, or run at
    once), False when it was (the caller then skips its own per-action writes, such as a second
    forced stale row). Inside a transaction a pending key still gets one more commit callback,
    sharing the pending work's state: at the commit the first callback runs the work and the
    others find it done. So the work runs once, and it also runs when only the later callback
    is executed (a test that runs the callbacks of one block of its transaction).
    Exceptions of ``work`` at a commit propagate as ``on_commit`` callbacks do; at the end of a
    request or task they are logged (the stale rows stay unresolved for the service).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        found = _action.on_commit.get(key)
        fresh = found is None or found.done or not _registered(found.last)
        if found is None or fresh:
            if len(_action.on_commit) >= _PRUNE_AT:
                _action.on_commit = {k: p for k, p in _action.on_commit.items() if not p.done and _registered(p.last)}
            found = _action.on_commit[key] = _Pending()
        state = found

        def run() -> None:
            if state.done:
                return
            state.done = True
            if _action.on_commit.get(key) is state:
                del _action.on_commit[key]
            work()

        state.last = run
        transaction.on_commit(run)
        return fresh
    _action.on_commit.clear()  # no transaction open: whatever was left was rolled back
    if _action.depth > 0:
        if key in _action.deferred:
            return False
        _action.deferred[key] = work
        return True
    work()
    return True


def _flush() -> None:
    """Run the work deferred to the end of the request or task (each failure logged, not raised)."""
    while _action.deferred:
        key = next(iter(_action.deferred))
        work = _action.deferred.pop(key)
        try:
            work()
        except Exception:  # the stale rows stay unresolved: run_aggregator_service retries them
            log.exception("completion_aggregator: deferred work %r failed", key)


def enter_action(**kwargs: object) -> None:
    """A request or task starts in this thread."""
    _action.depth += 1


def exit_action(**kwargs: object) -> None:
    """A request or task ends: the outermost one runs the deferred work."""
    _action.depth = max(0, _action.depth - 1)
    if _action.depth == 0:
        _flush()


def _request_started(**kwargs: object) -> None:
    """A new request: work left by a request that ended elsewhere (another thread) runs first."""
    if _action.depth:
        _action.depth = 0
        _flush()
    enter_action()


def connect() -> None:
    """Connect the request and Celery task boundaries (``AppConfig.ready``)."""
    from celery.signals import task_postrun, task_prerun

    request_started.connect(_request_started, dispatch_uid="completion_aggregator.action.request_started")
    request_finished.connect(exit_action, dispatch_uid="completion_aggregator.action.request_finished")
    task_prerun.connect(enter_action, dispatch_uid="completion_aggregator.action.task_prerun", weak=False)
    task_postrun.connect(exit_action, dispatch_uid="completion_aggregator.action.task_postrun", weak=False)
