"""
The course's lock row (``CourseTotal``) and the totals shard of a writer (ADR 0020).

Step 2 of the one lock order (docs/decisions/0014-one-lock-order.rst) comes in two modes:

* **shared** (``SELECT … LOCK IN SHARE MODE`` on MariaDB/MySQL, ``FOR SHARE`` on PostgreSQL):
  the aggregation write path. Any number of chunks of one course hold it at once; each
  writes only its own learners' Aggregator rows and adds its changes to a shard of the block
  totals that it alone holds for its transaction (:func:`claim_shard`), so they neither wait
  for nor deadlock with each other.
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

from .. import dispatch
from ..conf import get_setting
from ..models import CourseTotal, TotalShard

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
    Make sure the course has its ``CourseTotal`` row and its shard rows; call it *before* the writing transaction.

    One query when they exist (``CourseTotal.shards`` counts the ``TotalShard`` rows). Missing
    rows are created in short transactions of their own: two transactions that each found a
    row missing and inserted it under a lock would deadlock on MariaDB's gap locks.
    """
    wanted = shard_count()
    have = CourseTotal.objects.filter(course_key=course_key).values_list("shards", flat=True).first()
    if have is not None and have >= wanted:
        return
    TotalShard.objects.bulk_create(  # first the shard rows, then the count that promises them
        [TotalShard(course_key=course_key, shard=shard) for shard in range(wanted)], ignore_conflicts=True
    )
    if have is None:  # (a row made meanwhile, by a rebuild, keeps 0: the next call counts again)
        CourseTotal.objects.bulk_create([CourseTotal(course_key=course_key, shards=wanted)], ignore_conflicts=True)
    else:
        CourseTotal.objects.filter(course_key=course_key, shards__lt=wanted).update(shards=wanted)


def shard_count() -> int:
    """``COMPLETION_AGGREGATOR_TOTALS_SHARDS``, kept between 1 and :data:`MAX_SHARDS`."""
    return min(MAX_SHARDS, max(1, int(get_setting("COMPLETION_AGGREGATOR_TOTALS_SHARDS"))))


def claim_shard(course_key: CourseKey, preferred: int) -> int:
    """
    Lock one of the course's shard rows for the rest of the transaction; returns its number.

    The caller holds the course lock in share mode and is about to add to the block totals.
    ``preferred`` (from :func:`shard_for`) is taken when free; otherwise the next free one
    (``SELECT … FOR UPDATE SKIP LOCKED``, where the backend has it); when every shard is held,
    it waits for ``preferred``. Whoever holds a shard row is the only writer adding to that
    shard's ``BlockTotal`` rows until it commits. Its holder never waits for the waiter (the
    waiter holds only its stale rows, the shared course lock and its own learners' rows), so
    the wait ends. Without shard rows (not ensured) ``preferred`` is returned unclaimed.

    Raises:
        django.db.DatabaseError: on database failure (e.g. a lock wait timeout).
    """
    features = connection.features
    if not features.has_select_for_update:  # SQLite: one writing transaction at a time anyway
        return preferred
    shards = TotalShard.objects.filter(course_key=course_key, shard__lt=shard_count()).order_by("shard")
    if features.has_select_for_update_skip_locked:
        for free in (shards.filter(shard__gte=preferred), shards.filter(shard__lt=preferred)):
            got = free.select_for_update(skip_locked=True).values_list("shard", flat=True).first()
            if got is not None:
                return int(got)
    shards.filter(shard=preferred).select_for_update().values_list("shard", flat=True).first()
    return preferred


def shard_for(user_ids: Iterable[int]) -> int:
    """
    The block-totals shard a chunk of these learners adds its changes to (0 for no learners).

    The preferred shard of :func:`claim_shard`: the lowest learner id's range of
    ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` ids, modulo :func:`shard_count`. The service
    dispatches chunks of consecutive learner ids
    (:func:`completion_aggregator.dispatch.chunk_by_learner_id`), so chunks that workers take
    at the same time prefer different shards and each finds its own free.

    Raises:
        ImproperlyConfigured: the chunk size is not valid (:func:`completion_aggregator.dispatch.chunk_size`).
    """
    lowest = min(user_ids, default=0)
    span = dispatch.chunk_size()
    return (lowest // span) % shard_count()
