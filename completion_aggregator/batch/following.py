"""
The follower: :func:`follow` dispatches unresolved stale rows in short cycles until stopped.

Issue 20, ADR 0017: the service lock is held all along; each cycle runs the release check,
reads the new stale rows above a watermark and enqueues their tasks as the service run does
(:func:`.service.dispatch_rows`), then sleeps, probing for new rows between periods.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from .. import api
from ..conf import get_setting
from ..locks import HeldLock, cache_lock
from .service import ServiceSummary, dispatch_rows

log = logging.getLogger(__name__)

#: Stale rows dispatched this long ago (seconds) and still unresolved are dispatched again by
#: :func:`follow` (a task lost in the broker, or failed), as the next cron run would.
FOLLOW_RETRY_SECONDS = 300.0
#: How long (seconds) :func:`follow` keeps reading below its watermark for rows committed late
#: (ids are allocated at insert, and transactions commit in any order).
FOLLOW_SETTLE_SECONDS = 30.0
#: An idle follower doubles its sleep up to this many cycle periods.
FOLLOW_IDLE_FACTOR = 5


@dataclass
class CycleReport:
    """
    One cycle of :func:`follow`.

    ``oldest_age``: seconds since the oldest unresolved stale row (any course) was written, as
    seen at the start of the cycle (None: the queue was empty). ``resolved``: stale rows
    dispatched by earlier cycles that were found resolved at the start of this one.
    ``stale_rows``, ``learner_count``, ``tasks``: what this cycle read and enqueued (rows it had
    dispatched within the settle window are not read again). ``released_courses``: courses
    queued by this cycle's release check (ADR 0012; 0 when the check was not due).
    ``failed``: the cycle stopped on a database error (logged; the next cycle retries).
    ``sleep``: the seconds it then slept.
    """

    cycle: int
    oldest_age: float | None
    resolved: int
    stale_rows: int
    learner_count: int
    tasks: int
    released_courses: int = 0
    failed: bool = False
    sleep: float = 0.0

    def line(self) -> str:
        """The one-line status (log line and TTY status)."""
        if self.failed:
            return f"cycle {self.cycle}: database error (logged); retrying in {self.sleep:.1f} s"
        age = "empty" if self.oldest_age is None else f"oldest {self.oldest_age:.1f} s"
        released = f"; released {self.released_courses} courses" if self.released_courses else ""
        return (
            f"cycle {self.cycle}: queue {age}; resolved {self.resolved}; "
            f"read {self.stale_rows} stale rows, {self.learner_count} learners, {self.tasks} tasks{released}"
        )


@dataclass
class FollowSummary:
    """What a :func:`follow` run did in all."""

    cycles: int = 0
    stale_rows: int = 0
    tasks: int = 0
    resolved: int = 0
    failed_cycles: int = 0
    stopped: bool = False  # True: stopped by a signal (or the stop event), not by ``cycles``
    lock_lost: bool = False  # True: another run took the service lock over; the follower stopped


def follow(
    cycles: int | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], Any] | None = None,
    now: Callable[[], datetime] = timezone.now,
    clock: Callable[[], float] = time.monotonic,
    routing_key: str | None = None,
    report: Callable[[CycleReport], None] | None = None,
) -> FollowSummary:
    """
    Keep dispatching unresolved stale rows in short cycles until stopped (issue 20, ADR 0017).

    Each cycle first runs the release check (``api.releases.mark_released_stale``, which does
    work at most every ``COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL`` seconds), then reads
    the unresolved stale rows above an id watermark, in id order, at most
    ``COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE`` of them, and enqueues one task per
    course and chunk of learners, as :func:`.service.run_service` does. The watermark is that of
    :data:`FOLLOW_SETTLE_SECONDS` ago (rows committed late are caught; rows dispatched since
    are skipped). When the oldest unresolved row is older than :data:`FOLLOW_RETRY_SECONDS`
    (a lost or failed task), the queue is read again from it, at most once per that time, as
    the next cron run would. Then it sleeps: not at all when the cycle was full (a backlog),
    one ``COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS`` period after some work, and twice as
    long after each idle cycle, up to :data:`FOLLOW_IDLE_FACTOR` periods. Each cycle is logged
    (and passed to ``report``) with the age of the oldest unresolved stale row and what
    earlier cycles' tasks resolved. A cycle that meets a database error is logged and the
    next one, a period later, starts afresh.

    The service lock (:mod:`completion_aggregator.locks`) is held all along and its heartbeat
    beaten each cycle, so a cron ``run_aggregator_service`` beside it stops with "another run
    is running"; if another run took the lock over (this process was thought dead), the
    follower stops at once. ``stop``: an event that ends the loop after the current cycle
    (the command sets it on SIGTERM/SIGINT); the lock is released on the way out. ``cycles``,
    ``sleep``, ``now`` (wall clock, aware datetimes) and ``clock`` (monotonic seconds) are for
    tests: a bounded run, no real sleeping.

    Raises:
        LockHeld: another service run or follower holds the lock.
    """
    stop = stop or threading.Event()
    limits = _FollowLimits.from_settings()
    total = FollowSummary()
    state = _FollowState(rescanned=clock(), idle_sleep=limits.period)
    with cache_lock(
        get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK"),
        int(get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS")),
    ) as lock:
        while not stop.is_set() and (cycles is None or total.cycles < cycles):
            if not _still_holding(lock, total):
                break
            total.cycles += 1
            cycle = _checked_cycle(total, state, limits, routing_key, stop, now, clock)
            cycle.sleep = _next_sleep(cycle, state, limits)
            log.info("completion_aggregator follow: %s", cycle.line())
            if report:
                report(cycle)
            if cycle.sleep and not stop.is_set() and (cycles is None or total.cycles < cycles):
                _sleep_probing(cycle.sleep, limits.period, sleep or stop.wait, stop, state.watermark)
    total.stopped = stop.is_set()
    return total


def _still_holding(lock: HeldLock, total: FollowSummary) -> bool:
    """
    Beat the service lock's heartbeat before a cycle; False (logged, ``total.lock_lost``) if another run took it over.

    Connections the server closed are dropped first (a long-lived process), unless a caller's
    transaction (a test's) is open.
    """
    if not connection.in_atomic_block:
        close_old_connections()
    if not lock.beat():
        log.error("completion_aggregator: another run took the service lock over; the follower stops")
        total.lock_lost = True
        return False
    return True


@dataclass(frozen=True)
class _FollowLimits:
    """The follower's settings: cycle period (seconds), rows per cycle, rows per read."""

    period: float
    most: int
    batch_size: int

    @classmethod
    def from_settings(cls) -> _FollowLimits:
        """``COMPLETION_AGGREGATOR_FOLLOW_*`` and the service batch size, bounded to sane values."""
        most = max(1, int(get_setting("COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE")))
        return cls(
            period=max(0.0, float(get_setting("COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS"))),
            most=most,
            batch_size=max(1, min(most, int(get_setting("COMPLETION_AGGREGATOR_SERVICE_BATCH_SIZE")))),
        )


def _checked_cycle(
    total: FollowSummary,
    state: _FollowState,
    limits: _FollowLimits,
    routing_key: str | None,
    stop: threading.Event,
    now: Callable[[], datetime],
    clock: Callable[[], float],
) -> CycleReport:
    """Cycle number ``total.cycles``, added to ``total``; a database error is logged and makes a failed cycle."""
    try:
        cycle = _follow_cycle(total.cycles, state, limits.most, limits.batch_size, routing_key, stop, now, clock)
    except DatabaseError:
        log.exception(
            "completion_aggregator follow: cycle %d failed; retrying in %.1f s", total.cycles, limits.period
        )
        total.failed_cycles += 1
        cycle = CycleReport(total.cycles, None, 0, 0, 0, 0, failed=True)
    total.stale_rows += cycle.stale_rows
    total.tasks += cycle.tasks
    total.resolved += cycle.resolved
    return cycle


def _next_sleep(cycle: CycleReport, state: _FollowState, limits: _FollowLimits) -> float:
    """
    Seconds to sleep after ``cycle``, updating the idle sleep that follows.

    No sleep after a full cycle (a backlog), one period after some work or a failure, and twice
    the previous idle sleep after an idle cycle, up to :data:`FOLLOW_IDLE_FACTOR` periods.
    """
    period = limits.period
    if cycle.failed:
        return period
    if cycle.stale_rows >= limits.most:
        state.idle_sleep = period
        return 0.0
    if cycle.stale_rows:
        state.idle_sleep = period
        return period
    wait, state.idle_sleep = state.idle_sleep, min(state.idle_sleep * 2, period * FOLLOW_IDLE_FACTOR)
    return wait


def _sleep_probing(
    wait: float, period: float, pause: Callable[[float], Any], stop: threading.Event, watermark: int
) -> None:
    """
    Sleep ``wait`` seconds in steps of one period; between steps, one query for rows above ``watermark``.

    The query is indexed (``api.has_unresolved_after``).

    A row found ends the sleep: a completion committed while the follower is idle waits one
    period, not up to :data:`FOLLOW_IDLE_FACTOR` of them. A probe's database error is left to
    the next cycle.
    """
    while wait > 0 and not stop.is_set():
        step = min(period, wait) if period > 0 else wait
        pause(step)
        wait -= step
        try:
            if wait > 0 and api.has_unresolved_after(watermark):
                return
        except DatabaseError:
            pass


@dataclass
class _FollowState:
    """What :func:`follow` carries from one cycle to the next."""

    rescanned: float  # monotonic time of the last re-read of long-unresolved rows
    idle_sleep: float  # the next idle sleep (seconds)
    watermark: int = 0  # the highest stale id read so far
    marks: list[tuple[float, int]] = field(default_factory=list)  # (when, watermark) of cycles within the settle window
    recent: dict[int, float] = field(default_factory=dict)  # stale id -> when dispatched, within the settle window


def _follow_cycle(
    number: int,
    state: _FollowState,
    most: int,
    batch_size: int,
    routing_key: str | None,
    stop: threading.Event,
    now: Callable[[], datetime],
    clock: Callable[[], float],
) -> CycleReport:
    """One cycle of :func:`follow`: the release check, then read and dispatch (raises DatabaseError)."""
    started = clock()
    released = api.mark_released_stale(now())
    oldest = api.oldest_unresolved()
    oldest_age = None if oldest is None else max(0.0, (now() - oldest[1]).total_seconds())
    resolved = _forget_resolved(state.recent)
    # Ids are allocated at insert and committed in any order: a row may appear below the
    # watermark after a later one was read. Rows are therefore read from the watermark of
    # FOLLOW_SETTLE_SECONDS ago, skipping those dispatched since.
    state.marks = [(when, mark) for when, mark in state.marks if started - when < FOLLOW_SETTLE_SECONDS]
    state.recent = {key: when for key, when in state.recent.items() if started - when < FOLLOW_SETTLE_SECONDS}
    low = state.marks[0][1] if state.marks else state.watermark
    overdue = oldest_age is not None and oldest_age >= FOLLOW_RETRY_SECONDS
    if oldest is not None and overdue and started - state.rescanned >= FOLLOW_RETRY_SECONDS:
        # Dispatched long ago and still unresolved (a lost or failed task): again, as cron would.
        log.warning(
            "completion_aggregator: stale rows from id %d unresolved for %.0f s; dispatching again",
            oldest[0],
            oldest_age,
        )
        low, state.rescanned = oldest[0] - 1, started
        state.recent.clear()
    state.marks.append((started, state.watermark))  # where this cycle starts reading
    summary = ServiceSummary()
    seen: set[tuple[str, str]] = set()
    courses: set[str] = set()
    scanned = 0
    while summary.stale_rows < most and scanned < most * 5 and not stop.is_set():
        rows = api.unresolved_stale_rows(low, batch_size)
        if not rows:
            break
        scanned += len(rows)
        low = rows[-1][0]
        state.watermark = max(state.watermark, low)
        fresh = [row for row in rows if row[0] not in state.recent][: most - summary.stale_rows]
        for row in fresh:
            state.recent[row[0]] = started
        summary.stale_rows += len(fresh)
        dispatch_rows(fresh, seen, courses, routing_key, summary)
        if len(rows) < batch_size:
            break
    return CycleReport(
        number,
        oldest_age,
        resolved,
        summary.stale_rows,
        summary.learner_count,
        summary.tasks,
        released_courses=len(released.courses) + len(released.learner_courses),
    )


def _forget_resolved(recent: dict[int, float]) -> int:
    """Drop the ids of ``recent`` that are resolved now; return how many (one query per 900 ids)."""
    resolved = api.resolved_among(list(recent))
    for key in resolved:
        del recent[key]
    return len(resolved)
