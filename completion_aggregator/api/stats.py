"""
Course statistics computed from the stored Aggregator rows with database aggregates, never a row per learner in Python.

Courses whose running totals are built are answered from them (:mod:`.totals`, ADR 0009).
A course deleted from the host (its rows remain, its structure is gone) is answered from its
rows too, with one more query for its blocks' last known sizes (:func:`gone_course_possible`).
This module also computes every statistic from the rows: for courses not built yet, for a
cohort, and for the report's histogram.

Every statistic counts the course's active enrollments, or fewer: roles left out, one
cohort. Learners without a stored row count as 0. Whatever the enrollment, each statistic
costs the same few queries:

1. the counted learners' ids;
2. the stored block keys of the wanted aggregation names: a loose scan of
   ``aggr_name_course_block_per_idx``, one entry per block, not per learner;
3. the learners who have rows for those blocks, read from the unique key;
4. the sums per block: over every stored row minus the rows of learners who do not count,
   or over the counted learners directly when they are few (:func:`.row_sums.counted_sums`).

Sums of ``percent`` alone (the mean, the histogram) are read from
``aggr_name_course_block_per_idx`` (course_key, aggregation_name, block_key, percent) without
touching the table's rows. Sums of ``earned`` and ``possible`` read the rows. ADR 0008 once
added a covering index for them; ADR 0009 removed it, because the running totals serve those
sums and the index cost every write.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..data import ratio
from ..engine import CourseGraph
from ..keys import parse_course_key, parse_usage_key
from ..models import Aggregator
from .graphs import graph_for
from .row_sums import counted_sums
from .rows import stored_string
from .totals import counted_totals

log = logging.getLogger(__name__)

MEAN_CACHE_KEY = "completion-api-v0.mean-completion.{course_key}"
COURSE = "course"


@dataclass(frozen=True)
class CompletionStatsData:
    """A mean completion: ``earned`` and ``possible`` averaged over learners, ``percent`` their ratio."""

    earned: float
    possible: float
    percent: float


@dataclass(frozen=True)
class BlockStatsData:
    """The learners' mean completion of one aggregating block, and how many completed it."""

    block_key: str
    block_type: str
    mean_completion: CompletionStatsData
    completed_count: int


@dataclass(frozen=True)
class CourseStatsData:
    """The learners' mean completion of a course, plus per-block statistics when asked."""

    course_key: str
    learners: int
    mean_completion: CompletionStatsData
    blocks: tuple[BlockStatsData, ...] = field(default=())

    def by_type(self, block_type: str) -> tuple[BlockStatsData, ...]:
        """The block statistics of one block type, in course order (block-key order for a deleted course)."""
        return tuple(block for block in self.blocks if block.block_type == block_type)


# The queries -------------------------------------------------------------------------------


def stored_block_types_query(course_key: CourseKey, names: Iterable[str]) -> QuerySet[Any]:
    """
    The query of :func:`stored_block_types` (unevaluated: tests read its plan with ``explain()``).

    ``DISTINCT`` over the bare columns (course_key, aggregation_name, block_key), a prefix of
    ``aggr_name_course_block_per_idx``, lets MariaDB/MySQL jump from block to block through the
    index (``Using index for group-by``) instead of reading an entry per learner.
    """
    return (
        Aggregator.objects.filter(course_key=course_key, aggregation_name__in=sorted(set(names)))
        .annotate(raw_course=stored_string("course_key"), raw_key=stored_string("block_key"))
        .values_list("raw_course", "aggregation_name", "raw_key")
        .distinct()
        .order_by()
    )


def stored_block_types(course_key: CourseKey, names: Iterable[str]) -> dict[str, str]:
    """
    ``{block key: aggregation name}`` of the blocks with stored rows of ``names`` in the course.

    One query, answered from an index. Stored keys that no longer parse are left out with a
    warning (they cannot be filtered on).
    """
    found: dict[str, str] = {}
    for _course, name, key in stored_block_types_query(course_key, names):
        try:
            parse_usage_key(key)
        except InvalidKeyError:
            log.warning("completion_aggregator: stored block key %r of %s does not parse; left out", key, course_key)
            continue
        found.setdefault(key, name)
    return found


def _ids(learners: QuerySet[Any]) -> list[int]:
    """The ids of a queryset of users, in id order (one query)."""
    return list(learners.order_by("id").values_list("id", flat=True))


def _mean(learners: int, earned: float, possible: float, rows: int, default_possible: float) -> CompletionStatsData:
    """Means over ``learners``: those without a row have earned 0 and ``default_possible``."""
    if learners <= 0:
        return CompletionStatsData(0.0, default_possible, ratio(0.0, default_possible))
    missing = max(0, learners - rows)
    mean_earned = earned / learners
    mean_possible = (possible + missing * default_possible) / learners
    return CompletionStatsData(mean_earned, mean_possible, ratio(mean_earned, mean_possible))


# Statistics -------------------------------------------------------------------------------


def gone_course_possible(course_key: CourseKey, names: Iterable[str]) -> dict[str, dict[str, float]]:
    """
    ``{aggregation name: {block key: largest stored possible}}`` of a course without a structure.

    The blocks of ``names`` that have stored rows; a name without any is left out.

    A deleted course keeps its Aggregator rows and still answers from them (issue 17, point 5;
    ADR 0013). Without a structure a block's size is its last known one: the largest
    ``possible`` any stored row of it holds (every learner's, enrolled or not), as
    :func:`completion_aggregator.api.progress.get_gone_course_progress` takes for the course.
    One query grouped by block; one more when it finds nothing.

    Raises:
        CourseNotFound: no row of the course is stored at all (the course is unknown).
    """
    found: dict[str, dict[str, float]] = {}
    for name, key, largest in (
        Aggregator.objects.filter(course_key=course_key, aggregation_name__in=sorted(set(names)))
        .annotate(raw_key=stored_string("block_key"))
        .values("aggregation_name", "raw_key")
        .annotate(largest=Max("possible"))
        .order_by()
        .values_list("aggregation_name", "raw_key", "largest")
    ):
        found.setdefault(name, {})[str(key)] = float(largest or 0.0)
    if not found and not Aggregator.objects.filter(course_key=course_key).exists():
        raise CourseNotFound(f"no course {course_key} and no stored rows of it")
    return found


def get_course_stats(
    course_key: CourseKey,
    exclude_roles: Iterable[str] = (),
    cohort_id: int | None = None,
    block_types: Iterable[str] = (),
    viewer: AbstractBaseUser | None = None,
) -> CourseStatsData:
    """
    The mean completion of a course's active enrollments, computed with database aggregates.

    Holders of ``exclude_roles`` are left out; with ``cohort_id`` only that cohort's members
    count. ``earned`` is the sum of the learners' course-level earned divided by the number of
    learners (learners without rows count as 0); ``possible`` is the learners' mean possible,
    taking a representative learner's course possible for those without rows; ``percent`` is
    their ratio. ``block_types`` adds the same per block of those types, with the number of
    learners who completed it. ``viewer`` supplies the course structure when no learner does.

    A course the host no longer has (deleted: no structure) answers from its stored rows, as
    the course detail does (issue 17, point 5; ADR 0013): learners without a row count with
    the largest stored ``possible`` of the course and of each block
    (:func:`gone_course_possible`), and the blocks are in block-key order (the course order
    went with the structure).

    Raises:
        CourseNotFound: the host has no such course and no row of it is stored.
    """
    adapter = get_adapter()
    roles = [role for role in exclude_roles if role]
    excluded = adapter.role_holder_ids(course_key, roles) if roles else set()
    types = {name for name in block_types if name != COURSE}
    kept = counted_totals(course_key, types | {COURSE}, excluded) if cohort_id is None else None
    if kept is not None:
        count = kept.learners
        representative = kept.first_learner
        stored = {key: block["name"] for key, block in kept.blocks.items()}
        sums = kept.blocks
    else:
        learners = adapter.enrolled_users(course_key)
        if excluded:
            learners = learners.exclude(id__in=sorted(excluded))
        if cohort_id is not None:
            learners = learners.filter(id__in=sorted(adapter.cohort_member_ids(course_key, cohort_id)))
        ids = _ids(learners)
        count = len(ids)
        representative = learners.filter(id=ids[0]).first() if ids else None
        stored = stored_block_types(course_key, types | {COURSE})
        sums = counted_sums(
            course_key,
            stored,
            ids,
            set(stored.values()),
            earned=Sum("earned"),
            possible=Sum("possible"),
            rows=Count("id"),
            completed=Count("id", filter=Q(percent__gte=1.0)),
        )
    if representative is None:
        representative = viewer
    graph: CourseGraph | None = None
    gone: dict[str, dict[str, float]] = {}  # a deleted course: its blocks' largest stored possible
    if representative is not None:
        try:
            graph = graph_for(adapter.get_course_structure(course_key, representative))
        except CourseNotFound:
            gone = gone_course_possible(course_key, types | {COURSE})
    elif not adapter.course_exists(course_key):
        gone = gone_course_possible(course_key, types | {COURSE})
    graph_possible: dict[str, float] = (
        dict(zip(graph.aggregator_keys, graph.possible, strict=True))
        if graph is not None
        else {key: largest for blocks in gone.values() for key, largest in blocks.items()}
    )

    course_rows = [sums[key] for key, name in stored.items() if name == COURSE and key in sums]
    if graph is not None:
        course_possible = graph_possible.get(graph.root, 0.0)
    else:  # no structure: the course's last known size (as ``progress.get_gone_course_progress``)
        course_possible = max(gone.get(COURSE, {}).values(), default=0.0)
    mean_completion = _mean(
        count,
        sum(row["earned"] or 0.0 for row in course_rows),
        sum(row["possible"] or 0.0 for row in course_rows),
        sum(row["rows"] or 0 for row in course_rows),
        course_possible,
    )

    blocks: list[BlockStatsData] = []
    if types:
        listed: list[tuple[str, str]] = []
        if graph is not None:
            listed = [
                (key, block_type)
                for key, block_type in zip(graph.aggregator_keys, graph.aggregator_types, strict=True)
                if block_type in types
            ]
        known = {key for key, _type in listed}
        listed += sorted((key, name) for key, name in stored.items() if name in types and key not in known)
        for key, block_type in listed:
            row = sums.get(key) or {}
            stored_rows = row.get("rows") or 0
            default_possible = graph_possible.get(key)
            if default_possible is None:  # not in the representative's view: average the stored rows
                default_possible = (row.get("possible") or 0.0) / stored_rows if stored_rows else 0.0
            blocks.append(
                BlockStatsData(
                    block_key=key,
                    block_type=block_type,
                    mean_completion=_mean(
                        count, row.get("earned") or 0.0, row.get("possible") or 0.0, stored_rows, default_possible
                    ),
                    completed_count=int(row.get("completed") or 0),
                )
            )
    return CourseStatsData(
        course_key=str(course_key), learners=count, mean_completion=mean_completion, blocks=tuple(blocks)
    )


def get_mean(course_key: CourseKey) -> float:
    """
    The average course ``percent`` over active enrolled learners who hold no course role.

    Learners without a course row count as 0. Computed in the database and cached for
    ``COMPLETION_AGGREGATOR_MEAN_CACHE_TIMEOUT`` seconds under
    ``completion-api-v0.mean-completion.{course_key}`` (the peer's key).
    """
    if isinstance(course_key, str):
        course_key = parse_course_key(course_key)
    key = MEAN_CACHE_KEY.format(course_key=course_key)
    cached = cache.get(key)
    if cached is not None:
        return float(cached)
    adapter = get_adapter()
    role_holders = adapter.role_holder_ids(course_key)
    kept = counted_totals(course_key, [COURSE], role_holders)
    if kept is not None:
        total = sum(block["percent"] or 0.0 for block in kept.blocks.values())
        mean = total / kept.learners if kept.learners > 0 else 0.0
        cache.set(key, mean, int(get_setting("COMPLETION_AGGREGATOR_MEAN_CACHE_TIMEOUT")))
        return mean
    learners = adapter.enrolled_users(course_key)
    if role_holders:
        learners = learners.exclude(id__in=sorted(role_holders))
    ids = _ids(learners)
    count = len(ids)
    total = 0.0
    if count:
        sums = counted_sums(course_key, stored_block_types(course_key, [COURSE]), ids, [COURSE], total=Sum("percent"))
        total = sum(row["total"] or 0.0 for row in sums.values())
    mean = total / count if count else 0.0
    cache.set(key, mean, int(get_setting("COMPLETION_AGGREGATOR_MEAN_CACHE_TIMEOUT")))
    return mean


def get_completion_histogram(course_key: CourseKey, bins: int = 10) -> tuple[int, ...]:
    """
    How many active enrollments fall in each course-completion bin, in database aggregates.

    Learners are binned by the whole percent the pages show (halves round up, as
    :func:`completion_aggregator.api.report_page.whole_percent`), so a learner the report's
    table shows at 10 % is in the 10–20 % bin, not the 0–10 % one: bin ``i`` holds the
    learners whose whole percent ``w`` is ``ceil(100 i / bins) <= w < ceil(100 (i+1) / bins)``;
    the last bin also holds 100 %. Learners without a course row count in the first bin. The
    counts add up to the number of active enrollments (the learners of
    :func:`get_course_stats` without filters).
    """
    bins = max(1, int(bins))
    ids = _ids(get_adapter().enrolled_users(course_key))
    count = len(ids)
    if not count:
        return tuple(0 for _ in range(bins))

    def lowest_ratio(edge: int) -> float:
        # whole_percent(p) >= edge  <=>  p * 100 + 0.5 + 1e-9 >= edge
        return (edge - 0.5 - 1e-9) / 100

    edges = [math.ceil(100 * index / bins) for index in range(bins + 1)]
    buckets = {}
    for index in range(bins):
        low = Q(percent__gte=lowest_ratio(edges[index])) if index else Q()
        high = Q(percent__lt=lowest_ratio(edges[index + 1])) if index < bins - 1 else Q()
        buckets[f"bin{index}"] = Count("id", filter=low & high) if (index or index < bins - 1) else Count("id")
    sums = counted_sums(course_key, stored_block_types(course_key, [COURSE]), ids, [COURSE], **buckets)
    counts = [sum(int(row[f"bin{index}"] or 0) for row in sums.values()) for index in range(bins)]
    counts[0] += max(0, count - sum(counts))
    return tuple(counts)
