"""
Course statistics as typed sums, and the pure functions that turn sums into statistics (ADR 0026).

Every statistic of a course is a function of sums over its counted learners' stored
Aggregator rows, one :class:`BlockSums` per block, gathered with the number of counted
learners in a :class:`CourseSums`. Two sources give the same sums: the running totals
(:func:`completion_aggregator.api.kept_sums.kept_sums`, ADR 0009) and a scan of the rows
(:func:`completion_aggregator.api.row_sums.scanned_sums`). The functions here read no
database: the mean, the histogram, the per-block statistics and the representative learner
are computed from what the sources return, whichever source it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ..data import ratio

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from ..engine import CourseGraph

#: The aggregation name of a course's root block.
COURSE = "course"

#: A user of the host (anything with a ``pk``), as :func:`representative` takes and returns it.
User = TypeVar("User", bound="AbstractBaseUser")


@dataclass(frozen=True)
class BlockSums:
    """
    Sums over some learners' stored rows of one block.

    ``rows``: how many rows (at most one a learner); ``earned``, ``possible``, ``percent``: the
    rows' values added up (``percent`` a ratio, 0..1 a row); ``completed``: how many rows have
    ``percent`` >= 1.0. ``aggregation_name``: the block's type as stored (``course``,
    ``chapter``, …).
    """

    aggregation_name: str
    rows: int = 0
    earned: float = 0.0
    possible: float = 0.0
    percent: float = 0.0
    completed: int = 0

    def plus(self, other: BlockSums, sign: int = 1) -> BlockSums:
        """These sums with ``other``'s added (``sign`` 1) or taken out (-1); the name is this one's."""
        return BlockSums(
            self.aggregation_name,
            self.rows + sign * other.rows,
            self.earned + sign * other.earned,
            self.possible + sign * other.possible,
            self.percent + sign * other.percent,
            self.completed + sign * other.completed,
        )


@dataclass(frozen=True)
class CourseSums:
    """
    A course's sums over its counted learners, from either source.

    ``learner_count``: how many learners count (those without a row too). ``blocks``: block key →
    :class:`BlockSums` of the blocks some counted learner has a row of (``rows`` > 0).
    ``candidates``: the users offered to :func:`representative` (the source's first counted
    learner in id order; empty when none counts, or when the caller asked for none).
    """

    learner_count: int
    blocks: Mapping[str, BlockSums] = field(default_factory=dict)
    candidates: tuple[AbstractBaseUser, ...] = ()

    def named(self, name: str) -> list[BlockSums]:
        """The block sums of one aggregation name (``course``: the course's row, normally one)."""
        return [block for block in self.blocks.values() if block.aggregation_name == name]


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
    aggregation_name: str
    mean_completion: CompletionStatsData
    completed_count: int


@dataclass(frozen=True)
class CourseStatsData:
    """The learners' mean completion of a course, plus per-block statistics when asked."""

    course_key: str
    learner_count: int
    mean_completion: CompletionStatsData
    blocks: tuple[BlockStatsData, ...] = field(default=())

    def by_aggregation_name(self, aggregation_name: str) -> tuple[BlockStatsData, ...]:
        """The block statistics of one aggregation name, in course order (block-key order for a deleted course)."""
        return tuple(block for block in self.blocks if block.aggregation_name == aggregation_name)


# The pure functions -------------------------------------------------------------------------


def total(blocks: Iterable[BlockSums], name: str = COURSE) -> BlockSums:
    """The sums of several blocks added up (the course's rows: normally one block), under ``name``."""
    found = BlockSums(name)
    for block in blocks:
        found = found.plus(block)
    return found


def mean_completion(learner_count: int, block: BlockSums, default_possible: float) -> CompletionStatsData:
    """
    The mean completion of a block over ``learner_count`` learners, from its sums.

    Learners without a row (``learner_count - block.rows``) count with earned 0 and
    ``default_possible`` (the block's size in a representative learner's view). No learner:
    earned 0, ``default_possible`` and their ratio.
    """
    if learner_count <= 0:
        return CompletionStatsData(0.0, default_possible, ratio(0.0, default_possible))
    missing = max(0, learner_count - block.rows)
    mean_earned = block.earned / learner_count
    mean_possible = (block.possible + missing * default_possible) / learner_count
    return CompletionStatsData(mean_earned, mean_possible, ratio(mean_earned, mean_possible))


def mean_percent(sums: CourseSums) -> float:
    """The mean course ``percent`` (a ratio, 0..1) of the counted learners; those without a row count 0."""
    return total(sums.named(COURSE)).percent / sums.learner_count if sums.learner_count > 0 else 0.0


def block_sizes(graph: CourseGraph | None, gone: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """
    ``{block key: possible}`` of a learner without rows: the graph's, else a deleted course's last known sizes.

    ``gone``: ``{aggregation name: {block key: largest stored possible}}``
    (:func:`completion_aggregator.api.stats.gone_course_possible`), read only without a graph.
    """
    if graph is not None:
        return dict(zip(graph.aggregator_keys, graph.possible, strict=True))
    return {key: largest for blocks in gone.values() for key, largest in blocks.items()}


def listed_blocks(
    graph: CourseGraph | None, known: Mapping[str, str], sums: CourseSums, aggregation_names: Iterable[str]
) -> list[tuple[str, str]]:
    """
    ``[(block key, aggregation name)]`` of the per-block statistics, for the blocks of ``aggregation_names``.

    First the graph's aggregators of those aggregation names in course order; then, by block key, the
    blocks of ``known`` (``{block key: aggregation name}``, a deleted course's stored blocks)
    and those with counted rows that the graph lacks.
    """
    wanted = set(aggregation_names)
    listed: list[tuple[str, str]] = []
    if graph is not None:
        listed = [
            (key, aggregation_name)
            for key, aggregation_name in zip(graph.aggregator_keys, graph.aggregation_names, strict=True)
            if aggregation_name in wanted
        ]
    seen = {key for key, _type in listed}
    others = {key: name for key, name in known.items() if name in wanted and key not in seen}
    others.update(
        (key, block.aggregation_name)
        for key, block in sums.blocks.items()
        if block.aggregation_name in wanted and key not in seen
    )
    return listed + sorted(others.items())


def block_stats(
    sums: CourseSums, listed: Iterable[tuple[str, str]], sizes: Mapping[str, float]
) -> tuple[BlockStatsData, ...]:
    """
    The statistics of each listed block (``[(block key, aggregation name)]``) from the course's sums.

    A learner without a row of a block counts with the block's size in ``sizes``; a block the
    representative learner does not see counts them with its stored rows' mean ``possible``.
    """
    found = []
    for key, aggregation_name in listed:
        block = sums.blocks.get(key) or BlockSums(aggregation_name)
        default = sizes.get(key)
        if default is None:  # not in the representative's view: average the stored rows
            default = block.possible / block.rows if block.rows else 0.0
        mean = mean_completion(sums.learner_count, block, default)
        found.append(BlockStatsData(key, aggregation_name, mean, block.completed))
    return tuple(found)


def bin_floors(bins: int) -> list[float]:
    """
    The lowest ``percent`` ratio of each histogram bin but the first (``bins - 1`` rising values).

    Learners are binned by the whole percent the pages show (halves round up, as
    :func:`completion_aggregator.api.report_page.whole_percent`): bin ``i`` holds the whole
    percents ``w`` with ``ceil(100 i / bins) <= w < ceil(100 (i+1) / bins)``, the last bin
    also 100. ``whole_percent(p) >= edge`` exactly when ``p >= (edge - 0.5 - 1e-9) / 100``.
    """
    return [(math.ceil(100 * index / bins) - 0.5 - 1e-9) / 100 for index in range(1, bins)]


def bin_of(percent: float, floors: Sequence[float]) -> int:
    """The histogram bin of one learner's course ``percent`` (a ratio), given :func:`bin_floors`."""
    return sum(1 for floor in floors if percent >= floor)


def histogram(learner_count: int, binned: Sequence[int]) -> tuple[int, ...]:
    """
    Learners per bin: the counted course rows per bin (``binned``), plus the learners without one in the first.

    The counts add up to ``learner_count`` (unless rows outnumber them, which counted rows cannot).
    """
    counts = list(binned)
    counts[0] += max(0, learner_count - sum(counts))
    return tuple(counts)


def representative(candidates: Iterable[User], viewer: User | None = None) -> User | None:
    """
    The learner whose view of the course stands for learners without rows: the one rule (ADR 0026).

    The first candidate without global staff status (``is_staff``: staff see staff-only
    content) in ``pk`` order, else the first candidate, else ``viewer`` (who asked: the
    structure of an empty course). The sources offer their first counted learner; a page of
    learners offers its learners without a course row, or all of them.
    """
    ordered = sorted(candidates, key=lambda user: user.pk)
    chosen = next((user for user in ordered if not getattr(user, "is_staff", False)), None)
    return chosen or (ordered[0] if ordered else viewer)
