"""
Sums of stored Aggregator rows per block, over a set of learners, with database aggregates.

The statistics (:mod:`.stats`) and the running totals (:mod:`.totals`) both read them: this
module imports neither, so neither imports the other for them (ADR 0023). Each function costs
a fixed number of queries whatever the enrollment (one per batch of learner ids on SQLite,
whose statements carry at most about 32,000 parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from opaque_keys.edx.keys import CourseKey

from ..models import Aggregator
from .rows import stored_string


def block_sums_query(
    course_key: CourseKey,
    block_keys: Sequence[str],
    user_ids: Sequence[int] | None,
    names: Iterable[str] = (),
    **aggregates: Any,
) -> QuerySet[Any]:
    """
    The query grouping the rows of ``block_keys`` by block (unevaluated: tests read its plan).

    ``names``: the blocks' aggregation names. They are redundant with the keys, but with them
    a sum of ``percent`` alone is answered from ``aggr_name_course_block_per_idx``.

    ``user_ids``: only these learners' rows (None: every row). The learners are a list of
    ids, not a subquery: MariaDB turns ``user_id IN (SELECT …)`` into a join driven by the
    enrollments, fetching every row of every learner from the table (2.3 s for 10,000
    learners against 0.1 s for the list, measured).
    """
    rows = Aggregator.objects.filter(course_key=course_key, block_key__in=block_keys)
    if names:
        rows = rows.filter(aggregation_name__in=sorted(set(names)))
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    return rows.annotate(raw_key=stored_string("block_key")).values("raw_key").annotate(**aggregates).order_by()


def _combine(found: dict[str, dict[str, Any]], rows: Iterable[Any], sign: int = 1) -> dict[str, dict[str, Any]]:
    """Add (``sign`` 1) or subtract (-1) grouped rows into ``found``, ``{block key: {name: value}}``; returns it."""
    for row in rows:
        values = dict(row)
        mine = found.setdefault(str(values.pop("raw_key")), dict.fromkeys(values))
        for name, value in values.items():
            if value is not None:
                mine[name] = sign * value if mine.get(name) is None else mine[name] + sign * value
    return found


def block_sums(
    course_key: CourseKey,
    block_keys: Iterable[str],
    user_ids: Sequence[int],
    names: Iterable[str] = (),
    **aggregates: Any,
) -> dict[str, dict[str, Any]]:
    """
    ``{block key: {aggregate name: value}}`` over the rows of ``user_ids`` for ``block_keys``.

    ``aggregates`` must add up across batches of learners (``Sum``, ``Count``): one query on
    the covering index (course_key, block_key, user, earned, possible, percent), or one per
    batch where the database caps a statement's parameters (SQLite: about 32,000).
    """
    keys = sorted(set(block_keys))
    if not keys or not user_ids:
        return {}
    return _add_batches({}, course_key, keys, user_ids, 1, names, aggregates)


def _add_batches(
    found: dict[str, dict[str, Any]],
    course_key: CourseKey,
    keys: Sequence[str],
    user_ids: Sequence[int],
    sign: int,
    names: Iterable[str],
    aggregates: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Add (or, ``sign`` -1, subtract) the sums of ``user_ids``' rows, a statement per batch of ids."""
    batch = _ids_per_statement(len(keys))
    for start in range(0, len(user_ids), batch):
        query = block_sums_query(course_key, keys, user_ids[start : start + batch], names, **aggregates)
        _combine(found, query, sign)
    return found


def counted_sums(
    course_key: CourseKey,
    block_keys: Iterable[str],
    user_ids: Sequence[int],
    names: Iterable[str] = (),
    **aggregates: Any,
) -> dict[str, dict[str, Any]]:
    """
    :func:`block_sums` over the learners ``user_ids``, read the cheaper way for the database.

    Usually the counted learners are (nearly) all who have rows: then the sums over every
    stored row of the blocks (the covering index, no learner filter: a plan no statistics can
    spoil) minus the sums over the few who have rows but do not count (unenrolled, excluded
    roles). Otherwise (one cohort) the sums over the counted learners directly. Three
    queries, or two, whatever the enrollment; ``aggregates`` must subtract (``Sum``, ``Count``).
    """
    keys = sorted(set(block_keys))
    if not keys or not user_ids:
        return {}
    with_rows = set(
        Aggregator.objects.filter(course_key=course_key, block_key__in=keys)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by()
    )
    counted = set(user_ids)
    if 2 * len(counted & with_rows) < len(with_rows):
        return block_sums(course_key, keys, sorted(counted & with_rows), names, **aggregates)
    totals = _combine({}, block_sums_query(course_key, keys, None, names, **aggregates))
    return _add_batches(totals, course_key, keys, sorted(with_rows - counted), -1, names, aggregates)


def _ids_per_statement(other_parameters: int) -> int:
    """How many ids one statement may carry: unbounded but on SQLite, where its variable limit applies."""
    if connection.vendor != "sqlite":
        return 1 << 62
    import sqlite3

    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, int(limit) - other_parameters - 10)
