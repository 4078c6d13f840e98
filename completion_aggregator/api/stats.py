"""
Course statistics: the mean completion, per-block statistics, the mean percent and the histogram.

Each is a pure function (:mod:`.sums`) of the course's sums over its counted learners,
read by :func:`counted_course_sums` from one of two sources that give the same sums
(ADR 0026): the running totals when the course's are built (:mod:`.kept_sums`, ADR 0009),
else a scan of the stored rows with database aggregates, never a row per learner in Python
(:func:`.row_sums.scanned_sums`: courses not built yet, a cohort). The histogram is always
read from the rows (the totals keep no bins). A course deleted from the host (its rows
remain, its structure is gone) is answered from its rows too, with one more query for its
blocks' last known sizes (:func:`gone_course_possible`).

Every statistic counts the course's active enrollments, or fewer: roles left out, one
cohort. Learners without a stored row count as 0. Whatever the enrollment, each statistic
costs the same few queries. From the totals: the course row, the block totals, the excluded
learners who are counted and their sums (when some are), the first counted learner. From
the rows:

1. the counted learners' ids (and the first of them, for the representative);
2. the stored block keys of the wanted aggregation names: a loose scan of
   ``aggr_name_course_block_per_idx``, one entry per block, not per learner;
3. the learners who have rows for those blocks, read from the unique key;
4. the sums per block: over every stored row minus the rows of learners who do not count,
   or over the counted learners directly when they are few (:func:`.row_sums.counted_sums`).

Sums of ``percent`` alone (the mean, the histogram) are read from
``aggr_name_course_block_per_idx`` (course_key, aggregation_name, block_key, percent) without
touching the table's rows. Sums of ``earned`` and ``possible`` read the rows: no index
covers them (ADR 0008 once added one; ADR 0009 removed it, because the running totals serve
those sums and the index cost every write).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Count, Max, Q
from opaque_keys.edx.keys import CourseKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..conf import get_setting
from ..engine import CourseGraph
from ..keys import parse_course_key
from ..models import Aggregator
from .graphs import graph_for
from .kept_sums import kept_sums
from .row_sums import counted_sums, scanned_sums, stored_aggregation_names
from .rows import stored_string
from .sums import (
    COURSE,
    BlockStatsData,
    CompletionStatsData,
    CourseStatsData,
    CourseSums,
    bin_floors,
    block_sizes,
    block_stats,
    histogram,
    listed_blocks,
    mean_completion,
    mean_percent,
    representative,
    total,
)

__all__ = [
    "COURSE",
    "MEAN_CACHE_KEY",
    "BlockStatsData",
    "CompletionStatsData",
    "CourseStatsData",
    "counted_course_sums",
    "get_completion_histogram",
    "get_course_stats",
    "get_mean",
    "gone_course_possible",
]

MEAN_CACHE_KEY = "completion-api-v0.mean-completion.{course_key}"


def gone_course_possible(course_key: CourseKey, aggregation_names: Iterable[str]) -> dict[str, dict[str, float]]:
    """
    ``{aggregation name: {block key: largest stored possible}}`` of a course without a structure.

    The blocks of ``aggregation_names`` that have stored rows; a name without any is left out.

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
        Aggregator.objects.filter(course_key=course_key, aggregation_name__in=sorted(set(aggregation_names)))
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


def counted_course_sums(
    course_key: CourseKey,
    aggregation_names: Iterable[str],
    exclude_roles: Iterable[str] = (),
    cohort_id: int | None = None,
) -> CourseSums:
    """
    The sums of ``aggregation_names``' blocks over the course's counted learners: the one way the statistics read sums.

    The counted learners are the active enrollments, without the holders of
    ``exclude_roles``, and with ``cohort_id`` only that cohort's members. From the running
    totals when they are built and no cohort is asked for (:func:`.kept_sums.kept_sums`),
    else from the rows (:func:`.row_sums.scanned_sums`): the same sums either way (ADR 0026).
    The first counted learner in id order is the candidate representative.
    """
    adapter = get_adapter()
    roles = [role for role in exclude_roles if role]
    excluded = adapter.role_holder_ids(course_key, roles) if roles else set()
    kept = kept_sums(course_key, aggregation_names, excluded) if cohort_id is None else None
    if kept is not None:
        return kept
    learners = adapter.enrolled_users(course_key)
    if excluded:
        learners = learners.exclude(id__in=sorted(excluded))
    if cohort_id is not None:
        learners = learners.filter(id__in=sorted(adapter.cohort_member_ids(course_key, cohort_id)))
    return scanned_sums(course_key, learners, aggregation_names)


def _course_shape(
    course_key: CourseKey, viewer: AbstractBaseUser | None, aggregation_names: Iterable[str]
) -> tuple[CourseGraph | None, dict[str, dict[str, float]]]:
    """
    The course graph in ``viewer``'s view, or (a deleted course) its blocks' largest stored possible.

    Returns ``(graph, {})`` or ``(None, gone_course_possible(...))``.

    Raises:
        CourseNotFound: the host has no such course and no row of it is stored.
    """
    adapter = get_adapter()
    if viewer is not None:
        try:
            return graph_for(adapter.get_course_structure(course_key, viewer)), {}
        except CourseNotFound:
            return None, gone_course_possible(course_key, aggregation_names)
    if not adapter.course_exists(course_key):
        return None, gone_course_possible(course_key, aggregation_names)
    return None, {}


def get_course_stats(
    course_key: CourseKey,
    exclude_roles: Iterable[str] = (),
    cohort_id: int | None = None,
    aggregation_names: Iterable[str] = (),
    viewer: AbstractBaseUser | None = None,
) -> CourseStatsData:
    """
    The mean completion of a course's counted learners, from their sums (:func:`counted_course_sums`).

    Holders of ``exclude_roles`` are left out; with ``cohort_id`` only that cohort's members
    count. ``earned`` is the sum of the learners' course-level earned divided by the number of
    learners (learners without rows count as 0); ``possible`` is the learners' mean possible,
    taking the representative learner's course possible for those without rows
    (:func:`~completion_aggregator.api.sums.representative`, ``viewer`` when no learner
    counts); ``percent`` is their ratio. ``aggregation_names`` adds the same per block of those
    aggregation names, with the number of learners who completed it.

    A course the host no longer has (deleted: no structure) answers from its stored rows, as
    the course detail does (issue 17, point 5; ADR 0013): learners without a row count with
    the largest stored ``possible`` of the course and of each block
    (:func:`gone_course_possible`), and the blocks are in block-key order (the course order
    went with the structure).

    Raises:
        CourseNotFound: the host has no such course and no row of it is stored.
    """
    wanted = {name for name in aggregation_names if name != COURSE}
    sums = counted_course_sums(course_key, wanted | {COURSE}, exclude_roles, cohort_id)
    graph, gone = _course_shape(course_key, representative(sums.candidates, viewer), wanted | {COURSE})
    sizes = block_sizes(graph, gone)
    if graph is not None:
        course_possible = sizes.get(graph.root, 0.0)
    else:  # no structure: the course's last known size (as ``progress.get_gone_course_progress``)
        course_possible = max(gone.get(COURSE, {}).values(), default=0.0)
    known = {key: name for name, blocks in gone.items() for key in blocks}
    return CourseStatsData(
        course_key=str(course_key),
        learner_count=sums.learner_count,
        mean_completion=mean_completion(sums.learner_count, total(sums.named(COURSE)), course_possible),
        blocks=block_stats(sums, listed_blocks(graph, known, sums, wanted), sizes) if wanted else (),
    )


def get_mean(course_key: CourseKey) -> float:
    """
    The average course ``percent`` (a ratio, 0..1) over active enrolled learners who hold no course role.

    Learners without a course row count as 0. From the course's sums (the running totals, or
    ``percent`` alone read from an index), cached for
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
    sums = kept_sums(course_key, [COURSE], role_holders, candidates=False)
    if sums is None:
        learners = adapter.enrolled_users(course_key)
        if role_holders:
            learners = learners.exclude(id__in=sorted(role_holders))
        sums = scanned_sums(course_key, learners, [COURSE], percent_only=True, candidates=False)
    mean = mean_percent(sums)
    cache.set(key, mean, int(get_setting("COMPLETION_AGGREGATOR_MEAN_CACHE_TIMEOUT")))
    return mean


def get_completion_histogram(course_key: CourseKey, bins: int = 10) -> tuple[int, ...]:
    """
    How many active enrollments fall in each course-completion bin (``bins`` counts), in database aggregates.

    Learners are binned by the whole percent the pages show
    (:func:`~completion_aggregator.api.sums.bin_floors`), so a learner the report's table
    shows at 10 % is in the 10–20 % bin, not the 0–10 % one. Learners without a course row
    count in the first bin. The counts add up to the number of active enrollments (the
    learners of :func:`get_course_stats` without filters). Always read from the rows (the
    running totals keep no bins): ``percent`` alone, from an index.
    """
    bins = max(1, int(bins))
    ids = list(get_adapter().enrolled_users(course_key).order_by("id").values_list("id", flat=True))
    if not ids:
        return tuple(0 for _ in range(bins))
    floors = bin_floors(bins)
    buckets = {}
    for index in range(bins):
        low = Q(percent__gte=floors[index - 1]) if index else Q()
        high = Q(percent__lt=floors[index]) if index < bins - 1 else Q()
        buckets[f"bin{index}"] = Count("percent", filter=low & high) if bins > 1 else Count("percent")
    sums = counted_sums(course_key, stored_aggregation_names(course_key, [COURSE]), ids, [COURSE], **buckets)
    return histogram(len(ids), [sum(int(row[f"bin{index}"] or 0) for row in sums.values()) for index in range(bins)])
