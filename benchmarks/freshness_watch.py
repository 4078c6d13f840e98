"""
The freshness benchmark's watcher: when does each learner's stored course row reflect a completion?

The generator reports each completion as (user id, k, commit time): the learner's k-th
completion of the run, each raising the stored course ``earned`` by exactly 1. The watcher
knows every learner's course ``earned`` before the run (``base``) and polls the course rows
of the learners with completions still unseen, through the ``(user, aggregation_name,
course_key)`` index. A row with ``earned = base + n`` reflects that learner's completions
1 … n.

Clocks: every time here is ``time.time()`` of this host (CLOCK_REALTIME), like the
generator's commit times and like ``modified`` (the worker's ``timezone.now()`` when it built
the row, before its commit). For each completion two times are kept:

``seen``
    the wall time just before the poll that first found it reflected. Each poll is one
    autocommit statement, whose read view is opened after that moment, so the row was
    visible to any reader by ``seen`` plus the query's dispatch (far below a millisecond),
    and not yet at the previous poll's ``seen``: the true moment is within one poll
    interval before ``seen``. ``seen - commit`` is the lag, slightly pessimistic.
``stamp``
    the row's ``modified`` in that poll: when the worker built it, before its transaction
    committed. ``stamp - commit`` is a lower bound of the lag; the gap to ``seen`` is the
    rest of the worker's transaction plus the poll interval.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

POLL_CHUNK = 1000  # user ids per poll statement
#: The watcher waits at least this many times its last poll's CPU time between polls: at most
#: about a tenth of a core (and a like share of the database's time) goes to polling, even
#: when a backlog of thousands of learners makes each poll long. The lag's resolution then
#: stays a small fraction of the lag. CPU time, not wall time: on a busy machine a poll's
#: wall time grows with the wait for a core, which polling less often would not reduce.
DUTY_FACTOR = 10


@dataclass
class Sample:
    """One completion: its commit, when it was first seen reflected, and the row's stamp (epoch seconds)."""

    user_id: int
    k: int
    commit: float
    seen: float | None = None
    stamp: float | None = None

    @property
    def lag(self) -> float | None:
        """Seconds from the commit to the first poll that saw it (None: never seen)."""
        return None if self.seen is None else self.seen - self.commit

    @property
    def stamp_lag(self) -> float | None:
        """Seconds from the commit to the row's ``modified`` stamp (None: never seen)."""
        return None if self.stamp is None else self.stamp - self.commit


def epoch(value: datetime) -> float:
    """Seconds since the epoch of a stored timestamp (naive values are UTC, as Django stores them with USE_TZ)."""
    if value.tzinfo is None:
        return calendar.timegm(value.timetuple()) + value.microsecond / 1e6
    return value.timestamp()


def course_rows_sql(table: str, count: int, quote=lambda name: f"`{name}`") -> str:
    """The poll statement for ``count`` user ids: (user id, earned, modified) of their course rows."""
    marks = ", ".join(["%s"] * count)
    return (
        f"SELECT {quote('user_id')}, {quote('earned')}, {quote('modified')} FROM {quote(table)} "
        f"WHERE {quote('user_id')} IN ({marks}) AND {quote('aggregation_name')} = 'course' "
        f"AND {quote('course_key')} = %s"
    )


@dataclass
class Watcher:
    """Pending completions per learner, resolved by polls of their course rows."""

    course_key: str
    base: dict[int, float]  # user id -> course earned before the run
    pending: dict[int, list[Sample]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    polls: int = 0
    poll_seconds: float = 0.0  # time spent in poll statements
    last_poll_cpu_seconds: float = 0.0

    def interval(self, shortest: float) -> float:
        """Seconds from one poll's start to the next: ``shortest``, or :data:`DUTY_FACTOR` × the last one's CPU time."""
        return max(shortest, DUTY_FACTOR * self.last_poll_cpu_seconds)

    def record(self, user_id: int, k: int, commit: float) -> Sample:
        """A completion was committed (reported by the generator)."""
        sample = Sample(user_id, k, commit)
        self.pending.setdefault(user_id, []).append(sample)
        self.samples.append(sample)
        return sample

    def apply(self, rows: Iterable[tuple[int, float, datetime]], seen: float) -> int:
        """Mark what ``rows`` (user id, earned, modified) reflect as seen at ``seen``; return how many completions."""
        found = 0
        for user_id, earned, modified in rows:
            waiting = self.pending.get(user_id)
            if not waiting:
                continue
            reflected = round(float(earned) - self.base.get(user_id, 0.0))
            stamp = epoch(modified)
            while waiting and waiting[0].k <= reflected:
                sample = waiting.pop(0)
                sample.seen, sample.stamp = seen, stamp
                found += 1
            if not waiting:
                del self.pending[user_id]
        return found

    def poll(self, connection, table: str, clock) -> int:
        """One poll of every pending learner's course row (``clock``: ``time.time``); returns completions newly seen."""
        users = list(self.pending)
        found = 0
        cpu_started = time.process_time()
        for start in range(0, len(users), POLL_CHUNK):
            chunk = users[start : start + POLL_CHUNK]
            seen = clock()
            with connection.cursor() as cursor:
                cursor.execute(course_rows_sql(table, len(chunk), connection.ops.quote_name), [*chunk, self.course_key])
                rows = cursor.fetchall()
            self.poll_seconds += clock() - seen
            found += self.apply(rows, seen)
        self.polls += 1
        self.last_poll_cpu_seconds = time.process_time() - cpu_started
        return found

    @property
    def unseen(self) -> int:
        """Completions not seen reflected yet."""
        return sum(len(waiting) for waiting in self.pending.values())


def read_base(connection, table: str, course_key: str) -> dict[int, float]:
    """Every learner's stored course ``earned`` (user id -> earned)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('user_id')}, {quote('earned')} FROM {quote(table)} "
            f"WHERE {quote('aggregation_name')} = 'course' AND {quote('course_key')} = %s",
            [course_key],
        )
        return {int(user_id): float(earned) for user_id, earned in cursor.fetchall()}
