"""
The row scan: sums of stored Aggregator rows per block, over a set of learners, with database aggregates.

One of the two sources of :class:`~completion_aggregator.api.sums.CourseSums` (ADR 0026): the
statistics read it for courses whose running totals are not built and for a cohort
(:func:`scanned_sums`), the running totals to take excluded learners out
(:func:`block_sums`) and to build and check themselves (:func:`rows_by_block`). It imports
neither :mod:`.stats` nor :mod:`.totals` (ADR 0023). Each function costs a fixed number of
queries whatever the enrollment (one per batch of learner ids on SQLite, whose statements
carry at most about 32,000 parameters; :func:`rows_by_block` one per 900 learners).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from ..keys import parse_usage_key
from ..models import Aggregator
from .rows import stored_string
from .sums import BlockSums, CourseSums

log = logging.getLogger(__name__)

#: Ids per ``IN (…)`` list of :func:`rows_by_block`: under SQLite's variable limit, and short statements elsewhere.
ID_BATCH = 900

#: The aggregates of :class:`~completion_aggregator.api.sums.BlockSums` that read ``percent``
#: alone, answered from ``aggr_name_course_block_per_idx`` (course_key, aggregation_name,
#: block_key, percent) without touching the table's rows: all the mean and the histogram need.
#: Named apart from the columns: a ``percent`` annotation would hide the column from the
#: ``completed`` filter.
PERCENT_SUMS: dict[str, Any] = {
    "sum_rows": Count("percent"),
    "sum_percent": Sum("percent"),
    "sum_completed": Count("percent", filter=Q(percent__gte=1.0)),
}
#: Every aggregate of a :class:`~completion_aggregator.api.sums.BlockSums` (reads the rows).
ALL_SUMS: dict[str, Any] = {**PERCENT_SUMS, "sum_earned": Sum("earned"), "sum_possible": Sum("possible")}


def as_block_sums(name: str, values: Mapping[str, Any]) -> BlockSums:
    """A :class:`BlockSums` from the ``sum_<field>`` aggregates of one block (those not read are 0)."""
    return BlockSums(
        name,
        int(values.get("sum_rows") or 0),
        float(values.get("sum_earned") or 0.0),
        float(values.get("sum_possible") or 0.0),
        float(values.get("sum_percent") or 0.0),
        int(values.get("sum_completed") or 0),
    )


def stored_aggregation_names_query(course_key: CourseKey, aggregation_names: Iterable[str]) -> QuerySet[Any]:
    """
    The query of :func:`stored_aggregation_names` (unevaluated: tests read its plan with ``explain()``).

    ``DISTINCT`` over the bare columns (course_key, aggregation_name, block_key), a prefix of
    ``aggr_name_course_block_per_idx``, lets MariaDB/MySQL jump from block to block through the
    index (``Using index for group-by``) instead of reading an entry per learner.
    """
    return (
        Aggregator.objects.filter(course_key=course_key, aggregation_name__in=sorted(set(aggregation_names)))
        .annotate(raw_course=stored_string("course_key"), raw_key=stored_string("block_key"))
        .values_list("raw_course", "aggregation_name", "raw_key")
        .distinct()
        .order_by()
    )


def stored_aggregation_names(course_key: CourseKey, aggregation_names: Iterable[str]) -> dict[str, str]:
    """
    ``{block key: aggregation name}`` of the blocks with stored rows of ``aggregation_names`` in the course.

    One query, answered from an index. Stored keys that no longer parse are left out with a
    warning (they cannot be filtered on).
    """
    found: dict[str, str] = {}
    for _course, name, key in stored_aggregation_names_query(course_key, aggregation_names):
        try:
            parse_usage_key(key)
        except InvalidKeyError:
            log.warning("completion_aggregator: stored block key %r of %s does not parse; left out", key, course_key)
            continue
        found.setdefault(key, name)
    return found


def scanned_sums(
    course_key: CourseKey,
    learners: QuerySet[Any],
    aggregation_names: Iterable[str],
    *,
    percent_only: bool = False,
    candidates: bool = True,
) -> CourseSums:
    """
    The sums of the ``aggregation_names``' blocks over the users of ``learners``, read from their rows.

    ``learners``: a queryset of users (the counted learners). ``percent_only``: read only what
    an index answers (:data:`PERCENT_SUMS`; ``earned`` and ``possible`` stay 0). ``candidates``:
    also read the first learner in id order (:func:`~completion_aggregator.api.sums.representative`).
    Five queries at most, whatever the enrollment: the learners' ids, the candidate, the
    stored block keys (:func:`stored_aggregation_names`), and :func:`counted_sums`' two or three.
    """
    ids = list(learners.order_by("id").values_list("id", flat=True))
    if not ids:
        return CourseSums(0)
    first = tuple(learners.filter(id=ids[0])[:1]) if candidates else ()
    stored = stored_aggregation_names(course_key, aggregation_names)
    found = counted_sums(course_key, stored, ids, set(stored.values()), **(PERCENT_SUMS if percent_only else ALL_SUMS))
    blocks = {key: as_block_sums(stored[key], values) for key, values in found.items()}
    return CourseSums(len(ids), {key: block for key, block in blocks.items() if block.rows}, first)


def rows_by_block(course_key: CourseKey, user_ids: Sequence[int]) -> dict[tuple[str, str], BlockSums]:
    """
    ``{(aggregation name, block key): sums}`` over every stored row of ``user_ids`` in the course.

    What the running totals are built from and checked against: one query per 900 learners,
    grouped by block.
    """
    found: dict[tuple[str, str], BlockSums] = {}
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), ID_BATCH):
        for values in (
            Aggregator.objects.filter(course_key=course_key, user_id__in=ids[start : start + ID_BATCH])
            .annotate(raw_key=stored_string("block_key"))
            .values("aggregation_name", "raw_key")
            .annotate(**ALL_SUMS)
            .order_by()
        ):
            name, key = str(values["aggregation_name"]), str(values["raw_key"])
            block = as_block_sums(name, values)
            found[name, key] = found[name, key].plus(block) if (name, key) in found else block
    return found


def block_sums_query(
    course_key: CourseKey,
    block_keys: Sequence[str],
    user_ids: Sequence[int] | None,
    aggregation_names: Iterable[str] = (),
    **aggregates: Any,
) -> QuerySet[Any]:
    """
    The query grouping the rows of ``block_keys`` by block (unevaluated: tests read its plan).

    ``aggregation_names``: the blocks' aggregation names. They are redundant with the keys, but with them
    a sum of ``percent`` alone is answered from ``aggr_name_course_block_per_idx``.

    ``user_ids``: only these learners' rows (None: every row). The learners are a list of
    ids, not a subquery: MariaDB turns ``user_id IN (SELECT …)`` into a join driven by the
    enrollments, fetching every row of every learner from the table (2.3 s for 10,000
    learners against 0.1 s for the list, measured).
    """
    rows = Aggregator.objects.filter(course_key=course_key, block_key__in=block_keys)
    if aggregation_names:
        rows = rows.filter(aggregation_name__in=sorted(set(aggregation_names)))
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
    aggregation_names: Iterable[str] = (),
    **aggregates: Any,
) -> dict[str, dict[str, Any]]:
    """
    ``{block key: {aggregate name: value}}`` over the rows of ``user_ids`` for ``block_keys``.

    ``aggregates`` must add up across batches of learners (``Sum``, ``Count``): one query,
    or one per batch where the database caps a statement's parameters (SQLite: about 32,000).
    The unique key (course_key, block_key, user, aggregation_name) finds the rows; sums of
    ``percent`` alone, with ``aggregation_names``, are answered from ``aggr_name_course_block_per_idx``
    without reading the rows (no index covers ``earned`` and ``possible``: ADR 0009).
    """
    keys = sorted(set(block_keys))
    if not keys or not user_ids:
        return {}
    return _add_batches({}, course_key, keys, user_ids, 1, aggregation_names, aggregates)


def _add_batches(
    found: dict[str, dict[str, Any]],
    course_key: CourseKey,
    keys: Sequence[str],
    user_ids: Sequence[int],
    sign: int,
    aggregation_names: Iterable[str],
    aggregates: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Add (or, ``sign`` -1, subtract) the sums of ``user_ids``' rows, a statement per batch of ids."""
    batch = _ids_per_statement(len(keys))
    for start in range(0, len(user_ids), batch):
        query = block_sums_query(course_key, keys, user_ids[start : start + batch], aggregation_names, **aggregates)
        _combine(found, query, sign)
    return found


def counted_sums(
    course_key: CourseKey,
    block_keys: Iterable[str],
    user_ids: Sequence[int],
    aggregation_names: Iterable[str] = (),
    **aggregates: Any,
) -> dict[str, dict[str, Any]]:
    """
    :func:`block_sums` over the learners ``user_ids``, read the cheaper way for the database.

    Usually the counted learners are (nearly) all who have rows: then the sums over every
    stored row of the blocks (no learner filter: a plan no statistics can spoil) minus the
    sums over the few who have rows but do not count (unenrolled, excluded roles). Otherwise
    (one cohort) the sums over the counted learners directly. Three queries, or two, whatever
    the enrollment; ``aggregates`` must subtract (``Sum``, ``Count``).
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
        return block_sums(course_key, keys, sorted(counted & with_rows), aggregation_names, **aggregates)
    totals = _combine({}, block_sums_query(course_key, keys, None, aggregation_names, **aggregates))
    return _add_batches(totals, course_key, keys, sorted(with_rows - counted), -1, aggregation_names, aggregates)


def _ids_per_statement(other_parameters: int) -> int:
    """How many ids one statement may carry: unbounded but on SQLite, where its variable limit applies."""
    if connection.vendor != "sqlite":
        return 1 << 62
    import sqlite3

    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, int(limit) - other_parameters - 10)
