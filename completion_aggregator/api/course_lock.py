"""
The course's lock row (``CourseTotal``) and the totals shard of a writer (ADR 0020).

Step 2 of the one lock order (docs/decisions/0014-one-lock-order.rst) comes in two modes:

* **shared** (``SELECT … LOCK IN SHARE MODE`` on MariaDB/MySQL, ``FOR SHARE`` on PostgreSQL):
  the aggregation write path. Any number of chunks of one course hold it at once; each
  writes only its own learners' Aggregator rows and adds its changes to its own shard of the
  block totals (:func:`shard_for`), so they neither wait for nor deadlock with each other.
* **exclusive** (``SELECT … FOR UPDATE``): the writers that change which learners count or
  that read every row of the course (enrollment sync, user deletion, rebuild). They wait
  until every writer holding the shared lock has committed, and writers wait for them.

SQLite serialises writing transactions itself and takes neither lock; another backend
without a share lock takes the exclusive one (correct, but writers of one course queue).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from opaque_keys.edx.keys import CourseKey

from ..conf import get_setting
from ..models import CourseTotal

#: The clause that share-locks the selected rows, per ``connection.vendor``.
SHARE_CLAUSES = {"mysql": " LOCK IN SHARE MODE", "postgresql": " FOR SHARE"}
#: The most shards :func:`shard_for` uses, whatever the setting says.
MAX_SHARDS = 256


def lock_course(course_key: CourseKey, create: bool, shared: bool = False) -> CourseTotal | None:
    """
    Lock the course's ``CourseTotal`` row for the rest of the transaction; None if absent.

    ``shared``: the aggregation write path's share lock (module docstring); otherwise the
    exclusive lock. ``create``: insert an unbuilt row first when there is none, so that later
    writers queue behind it, and so does a rebuild. Call this inside ``transaction.atomic()``,
    before reading learners or totals, so that on MariaDB/MySQL the locking reads that follow
    see every commit made before the lock was granted.

    Raises:
        django.db.DatabaseError: on database failure (e.g. a lock wait timeout).
    """
    row = _locked(course_key, shared)
    if row is None and create:
        CourseTotal.objects.bulk_create([CourseTotal(course_key=course_key)], ignore_conflicts=True)
        row = _locked(course_key, shared)
    return row


def _locked(course_key: CourseKey, shared: bool) -> CourseTotal | None:
    """Read the course row with a share lock (``shared``, where the backend has one) or an exclusive one."""
    query = CourseTotal.objects.filter(course_key=course_key).order_by()
    clause = SHARE_CLAUSES.get(connection.vendor) if shared else None
    if clause is None:
        return query.select_for_update().first()
    sql, params = query.query.sql_with_params()
    rows = list(CourseTotal.objects.raw(sql + clause, params))
    return rows[0] if rows else None


def ensure_course(course_key: CourseKey) -> None:
    """
    Make sure the course has its ``CourseTotal`` row; call it *before* opening the writing transaction.

    Created in its own short transaction: two transactions that each found the row missing
    and inserted it under a lock would deadlock on MariaDB's gap locks.
    """
    CourseTotal.objects.get_or_create(course_key=course_key)


def shard_for(user_ids: Iterable[int]) -> int:
    """
    The block-totals shard a chunk of these learners adds its changes to (0 for no learners).

    The lowest learner id's range of ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` ids, modulo
    ``COMPLETION_AGGREGATOR_TOTALS_SHARDS`` (1 to :data:`MAX_SHARDS`): the service dispatches chunks of consecutive
    learner ids (:func:`completion_aggregator.api.queue.chunk_by_learner_id`), so chunks that
    workers take at the same time usually fall on different shards. Two chunks on one shard
    only queue for its rows at the end of the later one's transaction.
    """
    lowest = min(user_ids, default=0)
    span = max(1, int(get_setting("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE")))
    shards = min(MAX_SHARDS, max(1, int(get_setting("COMPLETION_AGGREGATOR_TOTALS_SHARDS"))))
    return (lowest // span) % shards
