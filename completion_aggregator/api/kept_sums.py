"""
The running totals as a source of :class:`~completion_aggregator.api.sums.CourseSums` (ADR 0009, ADR 0026).

The totals (:mod:`.totals` keeps them) hold, per course, the counted learners and, per block
and shard, the sums of their rows. Reading them costs a few queries whatever the enrollment;
:func:`kept_sums` gives the same sums as the row scan
(:func:`completion_aggregator.api.row_sums.scanned_sums`) over the counted learners.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Subquery, Sum
from opaque_keys.edx.keys import CourseKey

from ..models import BlockTotal, CountedLearner, CourseTotal
from .row_sums import ALL_SUMS, as_block_sums, block_sums
from .rows import stored_string
from .sums import BlockSums, CourseSums

#: Ids per ``IN (…)`` list: under SQLite's variable limit, and short statements elsewhere.
ID_BATCH = 900
#: The value columns of a BlockTotal, as the ``sum_<field>`` of a BlockSums reads them.
TOTAL_COLUMNS = {
    "sum_rows": "learners",
    "sum_earned": "earned",
    "sum_possible": "possible",
    "sum_percent": "percent",
    "sum_completed": "completed",
}


def counted_members(course_key: CourseKey, user_ids: Iterable[int], lock: bool) -> set[int]:
    """
    Which of ``user_ids`` are counted learners of the course (one query per 900 ids).

    ``lock``: a locking read (``SELECT … FOR UPDATE``: the current rows, for a writer that
    holds the course lock).
    """
    ids = sorted(set(user_ids))
    found: set[int] = set()
    for start in range(0, len(ids), ID_BATCH):
        query = CountedLearner.objects.filter(course_key=course_key, user_id__in=ids[start : start + ID_BATCH])
        if lock:
            query = query.select_for_update()
        found.update(query.values_list("user_id", flat=True))
    return found


def kept_block_sums(
    course_key: CourseKey, aggregation_names: Iterable[str] | None = None
) -> dict[tuple[str, str], BlockSums]:
    """
    ``{(aggregation name, block key): sums}`` of the kept totals, summed over their shards (one query).

    ``aggregation_names``: only these aggregation names (None: all). Blocks whose rows were all
    taken out are listed with zero sums.
    """
    query = BlockTotal.objects.filter(course_key=course_key)
    if aggregation_names is not None:
        query = query.filter(aggregation_name__in=sorted(set(aggregation_names)))
    return {
        (str(values["aggregation_name"]), str(values["raw_key"])): as_block_sums(
            str(values["aggregation_name"]), values
        )
        for values in query.annotate(raw_key=stored_string("block_key"))
        .values("aggregation_name", "raw_key")
        .annotate(**{name: Sum(column) for name, column in TOTAL_COLUMNS.items()})
        .order_by()
    }


def kept_sums(
    course_key: CourseKey, aggregation_names: Iterable[str], excluded: Iterable[int] = (), candidates: bool = True
) -> CourseSums | None:
    """
    The built totals of ``aggregation_names``' blocks, without the learners ``excluded``; None while unbuilt.

    In one snapshot: the course row, the block totals, the excluded learners who are counted
    (when some are excluded) and, with ``candidates``, the first remaining counted learner in
    id order. If some excluded learners are counted, one more query sums their rows to take
    them out (:func:`~completion_aggregator.api.row_sums.block_sums`). None of this depends
    on the enrollment.
    """
    with transaction.atomic(savepoint=False):
        learner_count = (
            CourseTotal.objects.filter(course_key=course_key, built__isnull=False)
            .values_list("learners", flat=True)
            .first()
        )
        if learner_count is None:
            return None
        kept = kept_block_sums(course_key, aggregation_names)
        blocks = {key: block for (_name, key), block in kept.items() if block.rows}
        left_out = sorted(counted_members(course_key, excluded, lock=False)) if excluded else []
        if left_out and blocks:
            for key, values in block_sums(course_key, blocks, left_out, **ALL_SUMS).items():
                blocks[key] = blocks[key].plus(as_block_sums(blocks[key].aggregation_name, values), -1)
        first: tuple[AbstractBaseUser, ...] = ()
        if candidates:
            counted = CountedLearner.objects.filter(course_key=course_key).order_by("user_id").values("user_id")
            if left_out:
                counted = counted.exclude(user_id__in=left_out)
            first = tuple(get_user_model().objects.filter(id=Subquery(counted[:1])).order_by("id")[:1])
    return CourseSums(
        learner_count - len(left_out),
        {key: block for key, block in blocks.items() if block.rows},
        first,
    )
