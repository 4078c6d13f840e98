"""
The write path's apply step: a chunk's change set written under the course's lock (ADR 0014, 0017, 0018, 0025).

The changed rows as database-ready tuples, the deletions, the learners' marks, the
statistics' totals and the resolved stale rows, then the tracking events after commit. The
change set is planned by :func:`completion_aggregator.write_plan.plan_chunk`; the totals
(:func:`~.totals.record_changes`) and the events (:class:`~completion_aggregator.events.EventBatch`)
consume it here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..data import AggregateData
from ..events import EventBatch, emit_after_commit
from ..models import Aggregator, StaleCompletion
from ..upsert import Upsert
from ..write_plan import ChangeSet
from .course_lock import lock_course
from .paths import clear_marks, write_marks
from .rows import VALUE_FIELDS
from .totals import record_changes

#: When a stored row was created: ``(user id, block key) -> datetime`` (None: no such row).
CreatedOf = Callable[[int, str], datetime | None]

ID_CHUNK = 900  # stay under SQLite's variable limit when deleting or resolving by id


def apply_changes(course_key: CourseKey, changes: ChangeSet, created_of: CreatedOf, shard: int) -> None:
    """
    Write a chunk's change set, in the lock order of every writer (ADR 0014, 0020), in the caller's transaction.

    1. when it writes any row, deletion or mark: the course's lock row, shared (other chunks of
       the course go on writing; a user's deletion, a sync or a rebuild, exclusive, waits for
       this commit, and this chunk waits for theirs); then the rows (one upsert for the rows
       read with an id, one for new rows), the deletions, the marks recorded and cleared
       (ADR 0018), and the statistics' totals (:func:`~.totals.record_changes` of the change
       set's rows, in a shard this transaction claims: ``shard`` is the preferred one,
       :func:`~completion_aggregator.api.course_lock.shard_for` of the chunk's learners);
    2. the change set's stale ids, resolved by primary key in id order;
    3. the tracking events of the written rows, emitted once the transaction commits
       (discarded if it rolls back; ADR 0021). ``created_of(user id, block key)``: when a
       stored row was created (the events' ``created``).

    Raises:
        django.db.DatabaseError: on database failure (the caller's transaction rolls back).
    """
    if changes.writes_anything:
        course = lock_course(course_key, create=True, shared=True)
        known, new = _upserts()
        _write_prepared(_prepared(course_key, changes, new), known, new)
        for start in range(0, len(changes.deletes), ID_CHUNK):
            Aggregator.objects.filter(id__in=sorted(changes.deletes[start : start + ID_CHUNK])).delete()
        write_marks(course_key, changes.marks, changes.now)
        clear_marks(course_key, changes.unmarked)
        record_changes(course_key, changes.row_changes, course=course, shard=shard)
    resolve_stale(changes.stale_ids)
    emit_after_commit(EventBatch(course_key, changes.written, dict(changes.usernames), created_of, changes.now))


def resolve_stale(ids: Iterable[int]) -> None:
    """Resolve the (locked) stale rows ``ids``, by primary key in id order (one update per 900)."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), ID_CHUNK):
        StaleCompletion.objects.filter(id__in=ordered[start : start + ID_CHUNK]).update(
            resolved=True, modified=timezone.now()
        )


def _prepared(course_key: CourseKey, changes: ChangeSet, new: Upsert) -> list[tuple[Any, ...]]:
    """
    The change set's upserts as tuples of database-ready values (stored id, then :data:`ROW_COLUMNS`).

    No model instance per row: keys and timestamps are converted once per distinct value by
    the fields' own converters (:meth:`~completion_aggregator.upsert.Upsert.db_value`).
    """
    if not changes.upserts:
        return []
    block_db, stamp_db = new.db_value("block_key"), new.db_value("last_modified")
    course_db = new.db_value("course_key")(course_key)
    now_db = stamp_db(changes.now)
    return [
        (
            row_id,
            user_id,
            course_db,
            value.aggregation_name,
            block_db(value.block_key),
            value.earned,
            value.possible,
            value.percent,
            value.optional_earned,
            value.optional_possible,
            value.optional_percent,
            stamp_db(last),
            now_db,
            now_db,
        )
        for row_id, user_id, value, last in changes.upserts
    ]


def aggregator_row(
    user_id: int,
    course_key: CourseKey,
    value: AggregateData,
    block_key: UsageKey | str,
    last_modified: datetime,
    now: datetime,
    row_id: int | None = None,
) -> Aggregator:
    """The (unsaved) Aggregator row storing ``value``; ``row_id``: the stored row it replaces."""
    return Aggregator(
        id=row_id,
        user_id=user_id,
        course_key=course_key,
        aggregation_name=value.aggregation_name,
        block_key=block_key,
        earned=value.earned,
        possible=value.possible,
        percent=value.percent,
        optional_earned=value.optional_earned,
        optional_possible=value.optional_possible,
        optional_percent=value.optional_percent,
        last_modified=last_modified,
        created=now,
        modified=now,
    )


#: The columns of a prepared Aggregator row (:func:`_write_prepared`), after its stored id.
ROW_COLUMNS = (
    "user_id",
    "course_key",
    "aggregation_name",
    "block_key",
    *VALUE_FIELDS,
    "created",
    "modified",
)
#: The key of a row stored without an id (the peer's unique key).
UNIQUE_KEY = ("course_key", "block_key", "user", "aggregation_name")


def _upserts() -> tuple[Upsert, Upsert]:
    """The upsert of rows read with an id (keyed by it) and of new rows (keyed by the unique key)."""
    update = [*VALUE_FIELDS, "modified"]
    return (
        Upsert(Aggregator, ("id", *ROW_COLUMNS), ("id",), update),
        Upsert(Aggregator, ROW_COLUMNS, UNIQUE_KEY, update),
    )


def _write_prepared(rows: list[tuple[Any, ...]], known: Upsert, new: Upsert) -> None:
    """Write prepared rows (stored id or None, then :data:`ROW_COLUMNS`): see :func:`write_rows`."""
    with_id = [row for row in rows if row[0] is not None]
    without = [row[1:] for row in rows if row[0] is None]
    known.write(with_id)
    new.write(without)


def write_rows(rows: list[Aggregator]) -> None:
    """
    Store computed rows: one upsert for the rows read with an id, keyed by that id, one for new rows.

    An upsert that carries the stored id meets the existing row in the table's own (clustered)
    index and updates it there; without the id, MariaDB first tries an insert, probes the unique
    key (course_key, block_key, user, aggregation_name), undoes the insert and then updates —
    on a table larger than the buffer pool, about twice the work per changed row. Rows read with
    an id cannot vanish before the write (their learner's stale rows are locked); were one gone,
    the upsert would insert it again under its id. ``created`` is kept on update.

    The aggregation builds the rows as tuples of database-ready values (:mod:`..upsert`); this
    entry point takes model instances (unsaved rows from :func:`aggregator_row`).
    """
    known, new = _upserts()
    converted = ("course_key", "block_key", "last_modified", "created", "modified")
    converters = {name: new.db_value(name) for name in converted}
    def value(row: Aggregator, name: str) -> Any:
        return converters[name](getattr(row, name)) if name in converters else getattr(row, name)

    prepared = [(row.id, *(value(row, name) for name in ROW_COLUMNS)) for row in rows]
    _write_prepared(prepared, known, new)
