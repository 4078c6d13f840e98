"""
Frozen value objects passed between layers. Imports nothing of ours.

Keys are strings (serialised opaque keys) so the engine needs neither Django nor opaque-keys.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType


class CompletionMode(enum.StrEnum):
    """The three completion modes of ``xblock.completable.XBlockCompletionMode``."""

    COMPLETABLE = "completable"
    AGGREGATOR = "aggregator"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class BlockData:
    """
    One block of a course structure as the host LMS shows it to one learner.

    ``locked``: the host keeps the block in the learner's tree but denies access to it (an
    access-denied message of a user partition or of content type gating); it still counts in
    ``possible`` (ADR 0011), and the learner's ``locked`` figures sum such blocks.
    """

    key: str
    block_type: str
    children: tuple[str, ...] = ()
    optional: bool = False
    locked: bool = False


@dataclass(frozen=True, eq=False)
class CourseStructureData:
    """
    A course's block tree (a DAG: a block may have several parents).

    ``version`` identifies the published structure plus whatever visibility filter the host
    applied, so that learners with identical trees can share one compiled graph.
    ``root_hidden``: the learner cannot see the course root (not released yet, or staff-only);
    ``blocks`` is then the root alone, an empty course.
    """

    course_key: str
    root: str
    blocks: Mapping[str, BlockData]
    version: str = ""
    root_hidden: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.blocks, MappingProxyType):
            object.__setattr__(self, "blocks", MappingProxyType(dict(self.blocks)))


@dataclass(frozen=True)
class CourseStartDatesData:
    """
    When a course's content becomes visible to learners, as the host can tell (ADR 0012).

    ``starts``: the distinct effective start dates of the course's blocks (aware datetimes,
    sorted; past ones included). ``learner_starts``: personalised start dates, as sorted
    ``(user id, start)`` pairs, for hosts that move dates per learner (empty otherwise).
    """

    course_key: str
    starts: tuple[datetime, ...] = ()
    learner_starts: tuple[tuple[int, datetime], ...] = ()


@dataclass(frozen=True)
class CompletionData:
    """One BlockCompletion value of one learner."""

    block_key: str
    completion: float
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class AggregateData:
    """
    The computed completion of one aggregating block for one learner: one stored ``Aggregator`` row.

    ``aggregation_name``: the block's type, one of the aggregation names (the row's column of
    that name).
    """

    block_key: str
    aggregation_name: str
    earned: float
    possible: float
    percent: float
    optional_earned: float = 0.0
    optional_possible: float = 0.0
    optional_percent: float = 1.0
    last_modified: datetime | None = None

    def same_values(self, other: AggregateData) -> bool:
        """True when both carry the same sums (timestamps ignored unless both are known)."""
        return (
            _close(self.earned, other.earned)
            and _close(self.possible, other.possible)
            and _close(self.optional_earned, other.optional_earned)
            and _close(self.optional_possible, other.optional_possible)
            and (self.last_modified is None or other.last_modified is None or self.last_modified == other.last_modified)
        )


@dataclass(frozen=True, slots=True)
class LockedData:
    """
    A learner's figures over the locked blocks of a course (or subtree).

    Locked blocks are those the host keeps in their tree but that they may not open (ADR 0011).
    These blocks are also part of the learner's ``earned``/``possible``; what they can open is
    the difference.
    """

    earned: float
    possible: float
    percent: float


@dataclass(frozen=True)
class CourseProgressData:
    """A learner's aggregates for one course: the course entry plus the blocks of every aggregation name."""

    course_key: str
    user_id: int
    username: str
    course: AggregateData
    blocks: tuple[AggregateData, ...] = field(default=())
    fresh: bool = False  # computed on the fly rather than read from stored rows
    locked: LockedData | None = None  # only when asked for (``requested_fields=locked``)

    def by_aggregation_name(self, aggregation_name: str) -> tuple[AggregateData, ...]:
        """The aggregates of one aggregation name, in course order."""
        return tuple(agg for agg in self.blocks if agg.aggregation_name == aggregation_name)


def ratio(earned: float, possible: float) -> float:
    """``earned / possible``, 1.0 when there is nothing to do, never outside [0, 1]."""
    if possible <= 0:
        return 1.0
    return min(1.0, max(0.0, earned / possible))


def _close(left: float, right: float) -> bool:
    return abs(left - right) <= 1e-9
