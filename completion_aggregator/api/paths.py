"""
What the write path reads for a chunk of learners, and the marks that allow path-only updates.

* Full recomputes read every completion and every stored row of their learners: one query
  each per chunk (:func:`read_all_completions`, :func:`read_all_rows`).
* Path-only updates (ADR 0018) read only named blocks of each learner: the stored rows along
  the changed paths and the completions of the leaves under them. Learners name different
  blocks, so one statement per chunk is a ``UNION ALL`` of one branch per learner, each an
  indexed lookup (``course_key = … AND user_id = … AND block_key IN (…)``): a learner never
  reads another learner's path (:func:`read_rows_of`, :func:`read_completions_of`).
* ``ComputedLearner`` marks record, per learner and course, the digest of the graph of the last
  full recompute (:func:`read_marks`, :func:`write_marks`, :func:`clear_marks`). Writes of
  marks follow the lock order of ADR 0014: after the course's lock row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from completion.models import BlockCompletion
from django.db import connection
from django.db.models import DateTimeField, Model
from opaque_keys.edx.keys import CourseKey

from ..data import AggregateData
from ..engine import CompletionRow
from ..models import Aggregator, ComputedLearner
from ..upsert import Upsert
from .rows import VALUE_FIELDS, raw_block_key

#: Parameters per path statement: under SQLite's default limit of 999.
MAX_PARAMS = 900
#: Branches per ``UNION ALL``: under SQLite's limit of 500 compound terms.
MAX_BRANCHES = 200
#: Ids per ``IN (…)`` list of the full reads.
ID_BATCH = 900

STORED_COLUMNS = ("id", "user_id", "raw_key", "aggregation_name", *VALUE_FIELDS, "created")


@dataclass
class StoredRows:
    """
    Stored Aggregator rows of a chunk: values by user id and block key, with each row's id and ``created``.

    ``ids`` and ``created`` are keyed by ``(user id, block key)``; the id lets the upsert meet
    the row by its primary key, ``created`` goes into the tracking events.
    """

    values: dict[int, dict[str, AggregateData]] = field(default_factory=lambda: defaultdict(dict))
    ids: dict[tuple[int, str], int] = field(default_factory=dict)
    created: dict[tuple[int, str], Any] = field(default_factory=dict)
    #: Converts a ``created`` value as the database returned it (rows read by :func:`read_rows_of`).
    read_created: Callable[[Any], datetime] | None = None
    _raw_created: set[tuple[int, str]] = field(default_factory=set)

    def add(self, rows: Iterable[tuple[Any, ...]], raw_created: bool = False) -> int:
        """
        Add rows read as :data:`STORED_COLUMNS`; returns how many.

        ``raw_created``: their ``created`` is still the database's value, converted by
        :attr:`read_created` only when asked for (the events of the few rows that change).
        """
        count = 0
        for row_id, user_id, key, name, *values, made in rows:
            self.values[user_id][key] = AggregateData(key, name, *values)
            self.ids[(user_id, key)] = row_id
            self.created[(user_id, key)] = made
            if raw_created:
                self._raw_created.add((user_id, key))
            else:
                self._raw_created.discard((user_id, key))
            count += 1
        return count

    def created_of(self, user_id: int, block_key: str) -> datetime | None:
        """When the stored row of ``block_key`` was created (None: no such row)."""
        key = (user_id, block_key)
        made = self.created.get(key)
        if made is not None and key in self._raw_created and self.read_created is not None:
            made = self.created[key] = self.read_created(made)
            self._raw_created.discard(key)
        return made


def read_all_rows(course_key: CourseKey, user_ids: Sequence[int], into: StoredRows) -> None:
    """Every stored row of ``user_ids`` in the course, into ``into`` (one query per 900 learners)."""
    for start in range(0, len(user_ids), ID_BATCH):
        into.add(
            Aggregator.objects.filter(course_key=course_key, user_id__in=user_ids[start : start + ID_BATCH])
            .annotate(raw_key=raw_block_key())
            .values_list(*STORED_COLUMNS)
        )


def read_all_completions(course_key: CourseKey, user_ids: Sequence[int]) -> dict[int, list[CompletionRow]]:
    """Every completion of ``user_ids`` in the course: ``{user id: [(block key, value, modified)]}``."""
    found: dict[int, list[CompletionRow]] = defaultdict(list)
    for start in range(0, len(user_ids), ID_BATCH):
        for user_id, block_key, value, modified in (
            BlockCompletion.objects.filter(context_key=course_key, user_id__in=user_ids[start : start + ID_BATCH])
            .annotate(raw_key=raw_block_key())
            .values_list("user_id", "raw_key", "completion", "modified")
        ):
            found[user_id].append((block_key, value, modified))
    return found


def read_rows_of(course_key: CourseKey, wants: Mapping[int, Collection[str]], into: StoredRows) -> None:
    """The stored rows of the named blocks of each learner (``{user id: block keys}``), into ``into``."""
    reader = _PathRead(Aggregator, _STORED_FIELDS, "course_key", unconverted=("created",))
    into.read_created = reader.converter("created")
    into.add(reader.rows(course_key, wants), raw_created=True)


def read_completions_of(course_key: CourseKey, wants: Mapping[int, Collection[str]]) -> dict[int, list[CompletionRow]]:
    """The completions of the named leaves of each learner (``{user id: block keys}``)."""
    completions: dict[int, list[CompletionRow]] = defaultdict(list)
    for user_id, block_key, value, modified in _PathRead(
        BlockCompletion, ("user", "block_key", "completion", "modified"), "context_key"
    ).rows(course_key, wants):
        completions[user_id].append((block_key, value, modified))
    return completions


#: :data:`STORED_COLUMNS` as the model's field names.
_STORED_FIELDS = ("id", "user", "block_key", "aggregation_name", *VALUE_FIELDS, "created")


class _PathRead:
    """
    Named blocks of many learners from one table, in ``UNION ALL`` statements of one branch per learner.

    Each branch is ``<course> = %s AND user_id = %s AND block_key IN (…)``. The SQL is written
    here rather than by the ORM, which would build, compile and convert a query per branch (a
    third of a path-only update's time); key columns are read as the stored strings, and
    datetime columns go through the backend's own converters, as the ORM reads them.
    """

    def __init__(
        self, model: type[Model], fields: Sequence[str], course_field: str, unconverted: Collection[str] = ()
    ) -> None:
        opts = model._meta
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            found: Any = opts.get_field(name)
            return quote(str(found.column))

        self.course_field: Any = opts.get_field(course_field)
        self.select = (
            f"SELECT {', '.join(column(name) for name in fields)} FROM {quote(opts.db_table)}"
            f" WHERE {column(course_field)} = %s AND {column('user')} = %s AND {column('block_key')} IN "
        )
        self.opts = opts
        self.readers: list[tuple[int, Any, list[Any]]] = []
        for position, name in enumerate(fields):
            found: Any = opts.get_field(name)
            if isinstance(found, DateTimeField) and name not in unconverted:
                col, converters = self._converters(name)
                if converters:
                    self.readers.append((position, col, converters))

    def _converters(self, name: str) -> tuple[Any, list[Any]]:
        found: Any = self.opts.get_field(name)
        col = found.get_col(self.opts.db_table)
        return col, connection.ops.get_db_converters(col) + found.get_db_converters(connection)

    def converter(self, name: str) -> Callable[[Any], Any]:
        """A function reading a value of column ``name`` as the ORM would (for unconverted columns)."""
        col, converters = self._converters(name)

        def convert(value: Any) -> Any:
            for step in converters:
                value = step(value, col, connection)
            return value

        return convert

    def rows(self, course_key: CourseKey, wants: Mapping[int, Collection[str]]) -> Iterator[tuple[Any, ...]]:
        """The rows of every learner's named blocks (``{user id: block keys}``), datetimes converted."""
        course = self.course_field.get_db_prep_value(course_key, connection)
        for sql, params in self._statements(course, wants):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                found = cursor.fetchall()
            for row in found:
                if self.readers:
                    row = list(row)
                    for position, col, converters in self.readers:
                        for convert in converters:
                            row[position] = convert(row[position], col, connection)
                yield tuple(row)

    def _statements(self, course: Any, wants: Mapping[int, Collection[str]]) -> Iterator[tuple[str, list[Any]]]:
        """``(sql, params)`` per statement, within :data:`MAX_PARAMS` and :data:`MAX_BRANCHES`."""
        per_branch = MAX_PARAMS - 2  # the course key and the user id
        branches: list[str] = []
        params: list[Any] = []
        for user_id, keys in sorted(wants.items()):
            ordered = sorted(keys)
            for start in range(0, len(ordered), per_branch):
                part = ordered[start : start + per_branch]
                if branches and (len(params) + len(part) + 2 > MAX_PARAMS or len(branches) >= MAX_BRANCHES):
                    yield " UNION ALL ".join(branches), params
                    branches, params = [], []
                branches.append(self.select + "(" + ", ".join(["%s"] * len(part)) + ")")
                params += [course, user_id, *part]
        if branches:
            yield " UNION ALL ".join(branches), params


def read_marks(course_key: CourseKey, user_ids: Sequence[int]) -> dict[int, str]:
    """
    ``{user id: graph digest}`` of the learners' last full recompute in the course (absent: none known).

    One indexed statement per 900 learners (``(course_key, user_id)`` is unique), in plain SQL:
    it runs once per chunk, on every synchronous-mode completion too.
    """
    opts = ComputedLearner._meta
    quote = connection.ops.quote_name
    course_field: Any = opts.get_field("course_key")
    course = course_field.get_db_prep_value(course_key, connection)
    marks: dict[int, str] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(user_ids), ID_BATCH):
            batch = list(user_ids[start : start + ID_BATCH])
            cursor.execute(
                f"SELECT {quote('user_id')}, {quote('graph_digest')} FROM {quote(opts.db_table)}"
                f" WHERE {quote('course_key')} = %s AND {quote('user_id')} IN ({', '.join(['%s'] * len(batch))})",
                [course, *batch],
            )
            marks.update((user_id, str(digest)) for user_id, digest in cursor.fetchall())
    return marks


def write_marks(course_key: CourseKey, marks: Mapping[int, str], now: datetime) -> None:
    """
    Record that the learners' rows were just computed in full against the graphs of ``marks``.

    One upsert per 1,000 learners. Call it in the transaction that wrote the rows, holding the
    course's lock row (ADR 0014).
    """
    if not marks:
        return
    upsert = Upsert(
        ComputedLearner,
        ("course_key", "user_id", "graph_digest", "computed"),
        ("course_key", "user"),
        ("graph_digest", "computed"),
    )
    course_db = upsert.db_value("course_key")(course_key)
    now_db = upsert.db_value("computed")(now)
    upsert.write([(course_db, user_id, digest, now_db) for user_id, digest in sorted(marks.items())])


def clear_marks(course_key: CourseKey, user_ids: Collection[int]) -> None:
    """
    Forget the marks of learners whose queued changes were resolved without being applied.

    Their rows no longer follow every completion, so the next update recomputes them in full.
    Call it holding the course's lock row (ADR 0014).
    """
    ordered = sorted(user_ids)
    for start in range(0, len(ordered), ID_BATCH):
        ComputedLearner.objects.filter(course_key=course_key, user_id__in=ordered[start : start + ID_BATCH]).delete()
