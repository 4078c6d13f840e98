"""
Running totals of the course statistics, kept exact by every writer (ADR 0009).

A course's statistics are sums over its counted learners' Aggregator rows. Reading those
rows costs time in proportion to the enrollment; the totals answer in a few queries
whatever the enrollment. Three tables hold them:

* ``CourseTotal``: one row per course. It is the lock that orders every change, it records
  whether the totals are built, and it holds the number of counted learners.
* ``CountedLearner``: the learners whose rows the totals hold. These are the learners whose
  enrollment was active when last synced.
* ``BlockTotal``: per (aggregation name, block) and shard, how many of those rows there are
  and the sums of their earned, possible and percent, plus how many are complete. A block's
  totals are the sums over its shards (ADR 0020).

Every writer works inside one transaction. It locks the course's ``CourseTotal`` row before
it reads the learners or the totals, and it changes them only while it holds that lock: the
aggregation write path in share mode, so that chunks of one course write side by side, each
adding its changes to its own shard; the others (sync, user deletion, rebuild) exclusively
(:mod:`completion_aggregator.api.course_lock`). Every writer takes its locks in one order
(docs/decisions/0014-one-lock-order.rst), so that no two of them can wait for each other:

1. ``StaleCompletion`` rows, through the primary key only and in id order
   (:func:`completion_aggregator.api.queue.lock_stale_rows`): the aggregation of a chunk, a
   user's deletion (that user's rows in every course);
2. ``CourseTotal`` rows (:func:`lock_course`), one course, or several in course-key order (a
   user's deletion); shared by the aggregation, exclusive for the others;
3. under the course lock only, the course's ``Aggregator``, ``CountedLearner`` and
   ``BlockTotal`` rows. Under the exclusive lock its holder is their only writer. Under the
   shared lock each writer writes only its own learners' ``Aggregator`` rows, reads (never
   changes) ``CountedLearner``, then claims one ``TotalShard`` row (``SKIP LOCKED``) and adds
   to that shard's ``BlockTotal`` rows in one statement: no two writers add to one shard at
   once.

The writers:

* :func:`record_changes`: the aggregation write path. It adds each written or deleted row's
  new value minus its old value, for counted learners only.
* :func:`sync_learners`: called after an enrollment change commits. It adds the stored rows
  of learners who became active and takes out those of learners who left. It is idempotent,
  so a repeated or late event does no harm.
* :func:`remove_user`: called before a user is deleted, because their rows then vanish by
  cascade.
* :func:`rebuild`: starts again from the enrollments and the stored rows. Use it after
  switching, or when :func:`check` finds drift, for example after rows were written outside
  this app.

The statistics read the totals through :mod:`completion_aggregator.api.kept_sums`; until a
course is built they are computed from the rows (:func:`completion_aggregator.api.row_sums.scanned_sums`,
ADR 0026). This module only writes the totals, and checks them against the rows (:func:`check`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..data import AggregateData
from ..dispatch import build_totals_after_commit
from ..keys import parse_course_key
from ..models import Aggregator, BlockTotal, CountedLearner, CourseTotal
from ..upsert import Upsert
from .course_lock import claim_shard, lock_course
from .kept_sums import counted_members, kept_block_sums
from .row_sums import rows_by_block
from .rows import read_rows
from .sums import BlockSums

log = logging.getLogger(__name__)

#: Ids per ``IN (…)`` list: under SQLite's variable limit, and short statements elsewhere.
ID_BATCH = 900
#: The value columns of a BlockTotal, in the order of a delta.
SUM_FIELDS = ("learners", "earned", "possible", "percent", "completed")
#: Relative difference below which :func:`check` takes two float sums as equal.
SUM_TOLERANCE = 1e-9

Delta = list[Any]  # [learners, earned, possible, percent, completed], as SUM_FIELDS
Deltas = dict[tuple[str, str], Delta]  # {(aggregation name, block key): delta}


# Applying ----------------------------------------------------------------------------------


def add_value(deltas: Deltas, name: str, block_key: str, value: AggregateData, sign: int) -> None:
    """Add (``sign`` 1) or take out (-1) one stored row's value into ``deltas``."""
    delta = deltas.setdefault((name, str(block_key)), [0, 0.0, 0.0, 0.0, 0])
    delta[0] += sign
    delta[1] += sign * value.earned
    delta[2] += sign * value.possible
    delta[3] += sign * value.percent
    delta[4] += sign if value.percent >= 1.0 else 0


#: The columns of a BlockTotal row as :func:`apply_deltas` writes it.
TOTAL_FIELDS = ("course_key", "shard", "aggregation_name", "block_key", *SUM_FIELDS)


def apply_deltas(course_key: CourseKey, deltas: Deltas, shard: int = 0) -> None:
    """
    Add ``deltas`` to the course's block totals in ``shard``.

    The caller holds the course lock exclusively, or in share mode with ``shard`` claimed
    (:func:`~completion_aggregator.api.course_lock.claim_shard`): nobody else adds to these
    rows meanwhile (ADR 0020). One statement per 900 blocks, in (aggregation name, block)
    order: an upsert that adds each delta to the shard's stored row or inserts it
    (``Upsert(increment=True)``), so nothing is read first.

    Raises:
        django.db.DatabaseError: on database failure (the caller's transaction rolls back).
    """
    deltas = {key: delta for key, delta in deltas.items() if any(delta)}
    if not deltas:
        return
    upsert = Upsert(BlockTotal, TOTAL_FIELDS, TOTAL_FIELDS[:4], SUM_FIELDS, batch_size=ID_BATCH, increment=True)
    course_db = upsert.db_value("course_key")(course_key)
    block_db = upsert.db_value("block_key")
    upsert.write([(course_db, shard, name, block_db(key), *delta) for (name, key), delta in sorted(deltas.items())])


def _rows_deltas(course_key: CourseKey, signs: dict[int, int]) -> Deltas:
    """The deltas that add (sign 1) or take out (-1) every stored row of these learners."""
    deltas: Deltas = {}
    ids = sorted(signs)
    for start in range(0, len(ids), ID_BATCH):
        rows = Aggregator.objects.filter(course_key=course_key, user_id__in=ids[start : start + ID_BATCH])
        for user_id, value in read_rows(rows):
            add_value(deltas, value.aggregation_name, value.block_key, value, signs[user_id])
    return deltas


# The writers -------------------------------------------------------------------------------


def record_changes(
    course_key: CourseKey,
    changes: Sequence[tuple[int, AggregateData | None, AggregateData | None]],
    course: CourseTotal | None = None,
    shard: int = 0,
) -> None:
    """
    Keep the totals in step with rows just written or deleted, inside the writing transaction.

    ``changes``: ``(user id, new value or None if deleted, old value or None if inserted)``. Rows
    of learners who are not counted change nothing. The course lock (shared) is taken even
    while the totals are unbuilt, so that a rebuild waits for this transaction and sees its
    rows. ``course``: the course's row when the caller already holds its lock (the write path
    takes it before writing the Aggregator rows: the lock order in this module's docstring).
    ``shard``: the preferred block-totals shard
    (:func:`~completion_aggregator.api.course_lock.shard_for` of the chunk's learners); the
    changes go to the shard this transaction claims
    (:func:`~completion_aggregator.api.course_lock.claim_shard`), which it alone adds to.

    Raises:
        django.db.DatabaseError: on database failure (the caller's transaction rolls back).
    """
    if not changes:
        return
    if course is None:
        course = lock_course(course_key, create=True, shared=True)
    if course is None or course.built is None:
        _build_after_commit(course_key)
        return
    members = counted_members(course_key, {user_id for user_id, _new, _old in changes}, lock=True)
    deltas: Deltas = {}
    for user_id, new, old in changes:
        if user_id not in members:
            continue
        if old is not None:
            add_value(deltas, old.aggregation_name, old.block_key, old, -1)
        if new is not None:
            # An update keeps the stored row's aggregation name: count the new value under it.
            add_value(deltas, old.aggregation_name if old is not None else new.aggregation_name, new.block_key, new, 1)
    if any(any(delta) for delta in deltas.values()):
        apply_deltas(course_key, deltas, claim_shard(course_key, shard))


def _build_after_commit(course_key: CourseKey) -> None:
    """Queue the build of a course's totals once this transaction commits (the task skips built courses)."""
    build_totals_after_commit(course_key)


def sync_learners(course_key: CourseKey, user_ids: Iterable[int]) -> tuple[int, int]:
    """
    Count exactly the learners of ``user_ids`` whose enrollment is active now; returns (joined, left).

    Call it after an enrollment change has committed. It runs in its own transaction. A learner
    who became active is added along with their stored rows; a learner who left is taken out
    with theirs. Nothing happens while the course's totals are unbuilt.

    Raises:
        django.db.DatabaseError: on database failure (nothing is changed).
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0, 0
    with transaction.atomic():
        course = lock_course(course_key, create=False)
        if course is None or course.built is None:
            return 0, 0
        enrolled: set[int] = set()
        learners = get_adapter().enrolled_users(course_key)
        for start in range(0, len(ids), ID_BATCH):
            enrolled.update(learners.filter(id__in=ids[start : start + ID_BATCH]).values_list("id", flat=True))
        members = counted_members(course_key, ids, lock=True)
        joining = sorted(enrolled - members)
        leaving = sorted(members - enrolled)
        if not joining and not leaving:
            return 0, 0
        _move(course, course_key, joining, leaving)
    return len(joining), len(leaving)


def remove_user(user_id: int) -> None:
    """
    Take a user out of every course's totals (before the user's deletion removes their rows).

    It runs inside the deleting transaction, after the user's stale rows are locked
    (:func:`completion_aggregator.api.learners.forget_learner`). It locks the course
    row of every course where the user is counted or has Aggregator rows, in course-key order,
    so that the cascade that then deletes those rows cannot meet an aggregation of the course
    holding the course lock and waiting for them (step 2 of the lock order above).

    Raises:
        django.db.DatabaseError: on database failure (the deletion rolls back).
    """
    course_keys = sorted(
        {str(key) for key in CountedLearner.objects.filter(user_id=user_id).values_list("course_key", flat=True)}
        | {
            str(key)
            for key in Aggregator.objects.filter(user_id=user_id).values_list("course_key", flat=True).distinct()
        }
    )
    for course_key in course_keys:
        with transaction.atomic():
            key = parse_course_key(course_key)
            course = lock_course(key, create=False)
            if course is not None and course.built is not None and counted_members(key, [user_id], lock=True):
                _move(course, key, [], [user_id])


def _move(course: CourseTotal, course_key: CourseKey, joining: Sequence[int], leaving: Sequence[int]) -> None:
    """Add ``joining`` and take out ``leaving`` (with their rows). The caller holds the course lock."""
    deltas = _rows_deltas(course_key, {**{uid: 1 for uid in joining}, **{uid: -1 for uid in leaving}})
    CountedLearner.objects.bulk_create(
        [CountedLearner(course_key=course_key, user_id=uid) for uid in joining], batch_size=ID_BATCH
    )
    for start in range(0, len(leaving), ID_BATCH):
        CountedLearner.objects.filter(course_key=course_key, user_id__in=leaving[start : start + ID_BATCH]).delete()
    CourseTotal.objects.filter(id=course.id).update(learners=F("learners") + len(joining) - len(leaving))
    apply_deltas(course_key, deltas)


def rebuild(course_key: CourseKey) -> CourseTotal:
    """
    Build the course's totals again from its active enrollments and stored rows; returns the course row.

    This runs in one transaction and holds the course lock (exclusive). Writers wait for it, and
    it waits for them; it reads the rows once, zeroes every shard and adds the totals to shard
    0. It costs time in proportion to the enrollment (MariaDB, 10,000 learners: about a second).

    Raises:
        django.db.DatabaseError: on database failure (the previous totals are kept).
    """
    with transaction.atomic():
        course = lock_course(course_key, create=True)
        assert course is not None
        CountedLearner.objects.filter(course_key=course_key).delete()
        # Zeroed, not deleted: a deleted row stays in the unique index, delete-marked, until
        # purged, and writers inserting its key then take gap locks beyond their shard (ADR 0020).
        BlockTotal.objects.filter(course_key=course_key).update(**{column: 0 for column in SUM_FIELDS})
        ids, fresh = fresh_totals(course_key)
        deltas = {block: as_delta(sums) for block, sums in fresh.items()}
        CountedLearner.objects.bulk_create(
            [CountedLearner(course_key=course_key, user_id=uid) for uid in ids], batch_size=ID_BATCH
        )
        apply_deltas(course_key, deltas)
        course.learners = len(ids)
        course.built = timezone.now()
        course.save(update_fields=["learners", "built", "modified"])
    log.info("completion_aggregator: statistics totals of %s built (%d learners)", course_key, len(ids))
    return course


def fresh_totals(course_key: CourseKey) -> tuple[list[int], dict[tuple[str, str], BlockSums]]:
    """The active enrollments' ids and the sums of their stored rows per (aggregation name, block key)."""
    ids = sorted(get_adapter().enrolled_users(course_key).values_list("id", flat=True))
    return ids, rows_by_block(course_key, ids)


def as_delta(block: BlockSums) -> Delta:
    """A block's sums as a delta of :func:`apply_deltas` (``SUM_FIELDS`` order)."""
    return [block.rows, block.earned, block.possible, block.percent, block.completed]


def check(course_key: CourseKey) -> list[str]:
    """
    How the course's kept totals differ from totals read afresh (empty: they agree, or are unbuilt).

    Counts must match exactly. Float sums must match within a relative ``SUM_TOLERANCE``
    (they gather rounding as they are added to). The check reads without locking, so writes
    that run at the same time can show up as differences.
    """
    course = CourseTotal.objects.filter(course_key=course_key).first()
    if course is None or course.built is None:
        return []
    ids, fresh = fresh_totals(course_key)
    problems = []
    if course.learners != len(ids):
        problems.append(f"{course_key}: {course.learners} learners counted, {len(ids)} active enrollments")
    members = CountedLearner.objects.filter(course_key=course_key).count()
    if members != course.learners:
        problems.append(f"{course_key}: {members} counted learner rows, the course row says {course.learners}")
    kept = kept_block_sums(course_key)
    for block in sorted(set(kept) | set(fresh)):
        mine = as_delta(kept.get(block) or BlockSums(block[0]))
        right = as_delta(fresh.get(block) or BlockSums(block[0]))
        for column, have, want in zip(SUM_FIELDS, mine, right, strict=True):
            scale = max(1.0, abs(want))
            if (column in ("learners", "completed") and have != want) or abs(have - want) > SUM_TOLERANCE * scale:
                problems.append(f"{course_key} {block[1]}: {column} is {have}, the rows give {want}")
    return problems


def is_built(course_key: CourseKey) -> bool:
    """Whether the course's totals are built (one query)."""
    return CourseTotal.objects.filter(course_key=course_key, built__isnull=False).exists()
