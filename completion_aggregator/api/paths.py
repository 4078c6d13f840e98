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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from completion.models import BlockCompletion
from django.db.models import QuerySet
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
    created: dict[tuple[int, str], datetime] = field(default_factory=dict)

    def add(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Add rows read as :data:`STORED_COLUMNS`; returns how many."""
        count = 0
        for row_id, user_id, key, name, *values, made in rows:
            self.values[user_id][key] = AggregateData(key, name, *values)
            self.ids[(user_id, key)] = row_id
            self.created[(user_id, key)] = made
            count += 1
        return count


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

    def branch(user_id: int, keys: list[str]) -> QuerySet[Any, Any]:
        return (
            Aggregator.objects.filter(course_key=course_key, user_id=user_id)
            .annotate(raw_key=raw_block_key())
            .filter(raw_key__in=keys)
            .values_list(*STORED_COLUMNS)
        )

    for statement in _statements(wants, branch):
        into.add(statement)


def read_completions_of(course_key: CourseKey, wants: Mapping[int, Collection[str]]) -> dict[int, list[CompletionRow]]:
    """The completions of the named leaves of each learner (``{user id: block keys}``)."""

    def branch(user_id: int, keys: list[str]) -> QuerySet[Any, Any]:
        found: QuerySet[Any, Any] = (  # (edx-completion's manager is untyped)
            BlockCompletion.objects.filter(context_key=course_key, user_id=user_id)
            .annotate(raw_key=raw_block_key())
            .filter(raw_key__in=keys)
            .values_list("user_id", "raw_key", "completion", "modified")
        )
        return found

    completions: dict[int, list[CompletionRow]] = defaultdict(list)
    for statement in _statements(wants, branch):
        for user_id, block_key, value, modified in statement:
            completions[user_id].append((block_key, value, modified))
    return completions


def _statements(wants: Mapping[int, Collection[str]], branch: Any) -> Iterator[QuerySet[Any, Any]]:
    """``UNION ALL`` querysets of ``branch(user id, keys)``, within the parameter and branch limits."""
    per_branch = MAX_PARAMS - 2  # the course key and the user id
    batch: list[QuerySet[Any, Any]] = []
    params = 0
    for user_id, keys in sorted(wants.items()):
        ordered = sorted(keys)
        for start in range(0, len(ordered), per_branch):
            part = ordered[start : start + per_branch]
            if batch and (params + len(part) + 2 > MAX_PARAMS or len(batch) >= MAX_BRANCHES):
                yield _union(batch)
                batch, params = [], 0
            batch.append(branch(user_id, part))
            params += len(part) + 2
    if batch:
        yield _union(batch)


def _union(querysets: list[QuerySet[Any, Any]]) -> QuerySet[Any, Any]:
    first: QuerySet[Any, Any] = querysets[0]
    return first.union(*querysets[1:], all=True) if len(querysets) > 1 else first


def read_marks(course_key: CourseKey, user_ids: Sequence[int]) -> dict[int, str]:
    """``{user id: graph digest}`` of the learners' last full recompute in the course (absent: none known)."""
    marks: dict[int, str] = {}
    for start in range(0, len(user_ids), ID_BATCH):
        marks.update(
            ComputedLearner.objects.filter(
                course_key=course_key, user_id__in=user_ids[start : start + ID_BATCH]
            ).values_list("user_id", "graph_digest")
        )
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
