"""
Writing a chunk's computed rows under the course's lock (ADR 0014, 0017, 0018).

The changed rows as database-ready tuples, the deletions, the learners' marks and the
statistics' totals.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..data import AggregateData
from ..events import EventBatch
from ..models import Aggregator
from ..upsert import Upsert
from .course_lock import lock_course
from .paths import StoredRows, clear_marks, write_marks
from .rows import VALUE_FIELDS
from .totals import record_changes

ID_CHUNK = 900  # stay under SQLite's variable limit when deleting by id


class ChunkWrites:
    """The rows, deletions and tracking events a chunk collects, written under the course lock."""

    def __init__(self, course_key: CourseKey) -> None:
        self.course_key = course_key
        # Rows are written as tuples of database-ready values (no model instance per row): keys
        # and timestamps are converted once per distinct value by the fields' own converters.
        self.known_upsert, self.new_upsert = _upserts()
        self.block_db = self.new_upsert.db_value("block_key")
        self.stamp_db = self.new_upsert.db_value("last_modified")
        self.course_db = self.new_upsert.db_value("course_key")(course_key)
        self.now = timezone.now()
        self.now_db = self.stamp_db(self.now)
        self.rows: list[tuple[Any, ...]] = []
        #: ``(user id, new value, stored value or None)`` of each row written.
        self.changed: list[tuple[int, AggregateData, AggregateData | None]] = []
        self.to_delete: list[int] = []
        self.deleted: list[tuple[int, None, AggregateData]] = []
        self.usernames: dict[int, str] = {}
        self._created_of: Callable[[int, str], datetime | None] = lambda user_id, block_key: None

    def collect(self, user: AbstractBaseUser, values: list[AggregateData], stored: StoredRows, whole: bool) -> None:
        """
        Queue the rows of ``values`` that differ from the stored ones (listed in ``changed``).

        ``whole``: ``values`` hold every aggregator of the learner, so stored rows of other
        blocks (that left the course) are deleted.
        """
        mine = stored.values.get(user.pk, {})
        self.usernames[user.pk] = user.get_username()
        self._created_of = stored.created_of  # for the tracking events, read when they are sent
        current = set()
        for value in values:
            current.add(value.block_key)
            before = mine.get(value.block_key)
            if before is not None and before.block_type == value.block_type and before.same_values(value):
                continue
            last = value.last_modified or (before.last_modified if before else None) or self.now
            self.rows.append(
                (
                    stored.ids.get((user.pk, value.block_key)),
                    user.pk,
                    self.course_db,
                    value.block_type,
                    self.block_db(value.block_key),
                    value.earned,
                    value.possible,
                    value.percent,
                    value.optional_earned,
                    value.optional_possible,
                    value.optional_percent,
                    self.stamp_db(last),
                    self.now_db,
                    self.now_db,
                )
            )
            self.changed.append((user.pk, value, before))
        if whole:
            for key, before in mine.items():
                if key not in current:
                    self.to_delete.append(stored.ids[(user.pk, key)])
                    self.deleted.append((user.pk, None, before))

    @property
    def events(self) -> EventBatch:
        """The tracking events of the rows written, built when sent (ADR 0021)."""
        return EventBatch(self.course_key, self.changed, self.usernames, self._created_of, self.now)

    def commit(self, marks: Mapping[int, str], unmarked: list[int], shard: int) -> None:
        """
        Write the rows, deletions, marks and the statistics' totals (nothing to do: no lock taken).

        ``shard``: the preferred block-totals shard of the chunk
        (:func:`~completion_aggregator.api.course_lock.shard_for` of its learners).
        """
        changes = [*self.changed, *self.deleted]
        if not (changes or marks or unmarked):
            return
        # Lock order, step 2: the course's lock row before any Aggregator, mark or totals row.
        # Shared: other chunks of the course go on writing; a user's deletion, a sync or a
        # rebuild (exclusive) waits for this commit, and this chunk waits for theirs (ADR 0020).
        course = lock_course(self.course_key, create=True, shared=True)
        _write_prepared(self.rows, self.known_upsert, self.new_upsert)
        for start in range(0, len(self.to_delete), ID_CHUNK):
            Aggregator.objects.filter(id__in=sorted(self.to_delete[start : start + ID_CHUNK])).delete()
        write_marks(self.course_key, marks, self.now)
        clear_marks(self.course_key, unmarked)
        # The statistics' totals, same transaction, in a shard it claims (its id range's first).
        record_changes(self.course_key, changes, course=course, shard=shard)


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
        aggregation_name=value.block_type,
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
