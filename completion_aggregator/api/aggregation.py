"""
The write path: turn a chunk of learners' stale rows into stored Aggregator rows.

One chunk = one course and many learners, in one transaction of three steps (ADR 0025):
*read* (:func:`~.chunk_read.read_chunk`: the locked stale rows, users, structures, marks,
completions and stored rows, as a frozen snapshot), *plan*
(:func:`~completion_aggregator.write_plan.plan_chunk`, pure: the change set) and *apply*
(:func:`~.writes.apply_changes`: one upsert of the rows that changed, the deletions, marks and
totals, one update resolving exactly the stale ids that were read, the events after commit).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from opaque_keys.edx.keys import CourseKey

from ..data import AggregateData
from ..models import StaleCompletion
from ..write_plan import plan_chunk
from .chunk_read import read_chunk
from .course_lock import ensure_course, shard_for
from .keys import as_course_key
from .writes import aggregator_row, apply_changes, write_rows

__all__ = ["AggregationResult", "aggregate_learners", "aggregator_row", "write_rows"]

_ID_CHUNK = 900  # stale rows per INSERT


@dataclass
class AggregationResult:
    """What one chunk did."""

    course_key: str
    learner_count: int = 0
    path_learner_count: int = 0  # of ``learner_count``, those updated along their changed paths only (ADR 0018)
    stale_rows: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    unknown_users: list[str] = field(default_factory=list)
    changed: list[tuple[int, AggregateData, AggregateData | None]] = field(default_factory=list)


def aggregate_learners(
    course_key: CourseKey,
    usernames: Iterable[str],
    force: bool = False,
    block_keys: Sequence[str] = (),
) -> AggregationResult:
    """
    Recompute and store the aggregates of ``usernames`` in ``course_key``; resolve their stale rows.

    ``force`` or ``block_keys`` are first queued as stale rows (a forced full recompute, or
    more changed blocks), so that every write follows the same rule, in one transaction and
    in the one lock order of every writer (docs/decisions/0014-one-lock-order.rst):

    1. the unresolved stale rows of the chunk are locked through the primary key only, in id
       order (:func:`~completion_aggregator.api.queue.lock_stale_rows`: record locks only, so
       the LMS can keep inserting new stale rows);
    2. completions and stored rows are read and the aggregates computed; if any row changes,
       the course's ``CourseTotal`` row is locked in share mode
       (:func:`~completion_aggregator.api.course_lock.lock_course`): other chunks of the course
       hold it at the same time; an enrollment sync, a user's deletion or a rebuild waits;
    3. the changed Aggregator rows are written and the changes added to the statistics' totals,
       in a shard this transaction alone holds
       (:func:`~completion_aggregator.api.course_lock.claim_shard`; the chunk's learner-id range
       picks the preferred one, :func:`~completion_aggregator.api.course_lock.shard_for`);
    4. exactly the locked ids are resolved.

    Concurrent runs for one enrollment coalesce: they lock the same stale rows, so the later
    run waits for the earlier one's commit and then finds those rows resolved (nothing to do)
    or reads the completions after that commit. A completion committed during a run keeps its
    stale row unresolved. Unknown users and deleted courses resolve their stale rows with a
    warning.

    Raises:
        django.db.DatabaseError: on database failure (the transaction rolls back; nothing is resolved).
    """
    course_key = as_course_key(course_key)
    names = sorted(set(usernames))
    result = AggregationResult(course_key=str(course_key))
    if not names:
        return result
    if force or block_keys:
        _queue(course_key, names, force, block_keys)
    candidates = sorted(  # a plain read: nothing is locked yet
        StaleCompletion.objects.filter(course_key=course_key, username__in=names, resolved=False).values_list(
            "id", flat=True
        )
    )
    if not candidates:
        return result
    ensure_course(course_key)  # the statistics' lock row, outside the transaction (api/course_lock.py)
    with transaction.atomic():
        _store(course_key, candidates, result)
    return result


def _queue(course_key: CourseKey, names: list[str], force: bool, block_keys: Sequence[str]) -> None:
    """Queue a forced full recompute (``force``) of ``names``, or ``block_keys`` as their changed blocks."""
    if force:
        rows = [StaleCompletion(username=name, course_key=course_key, block_key=None, force=True) for name in names]
    else:
        rows = [
            StaleCompletion(username=name, course_key=course_key, block_key=key) for name in names for key in block_keys
        ]
    StaleCompletion.objects.bulk_create(rows, batch_size=_ID_CHUNK)


def _store(course_key: CourseKey, candidates: list[int], result: AggregationResult) -> None:
    """Read, plan, apply (ADR 0025): the body of the chunk's transaction."""
    snapshot = read_chunk(course_key, candidates)  # lock order, step 1: the stale rows
    if snapshot is None:  # another run resolved them while we waited for the locks
        return
    changes = plan_chunk(snapshot)
    shard = shard_for([learner.user_id for learner in snapshot.learners])
    apply_changes(course_key, changes, snapshot.created_of, shard)  # lock order, steps 2-4
    result.stale_rows = len(snapshot.stale_ids)
    result.unknown_users = list(snapshot.unknown_users)
    result.learner_count = changes.learner_count
    result.path_learner_count = changes.path_learner_count
    result.changed = list(changes.written)
    result.rows_written = len(changes.upserts)
    result.rows_deleted = len(changes.deletes)
