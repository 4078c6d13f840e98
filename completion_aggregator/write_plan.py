"""
The write path's plan: what one chunk read, and what it must write (issue 21, point 3; ADR 0025).

Pure, like :mod:`completion_aggregator.engine`: no ORM, cache or settings. The write path of a
chunk of learners (:mod:`completion_aggregator.api.aggregation`) runs in three steps:

1. *read* (:mod:`completion_aggregator.api.chunk_read`): lock the stale rows, read the users,
   structures, marks, completions and stored rows into a frozen :class:`ChunkSnapshot`;
2. *plan* (:func:`plan_chunk`, this module): compute every learner's aggregates and diff them
   against the stored rows into a frozen :class:`ChangeSet`: the rows to upsert and to delete,
   the changes the tracking events and the statistics' totals consume, the marks to record
   and to clear, the stale ids to resolve;
3. *apply* (:func:`completion_aggregator.api.writes.apply_changes`): write the change set in
   the one lock order of every writer (ADR 0014, 0020), then emit the events after commit.

The rules of the plan:

* a learner read in full (``LearnerRead.path`` None) gets every aggregator from all their
  completions (:func:`~completion_aggregator.engine.aggregate`); stored rows of blocks that
  are no longer aggregators of their graph are deleted, and their mark (the digest of the graph,
  ADR 0018) is recorded when it is not the one stored;
* a learner read along their changed paths gets the path's aggregators
  (:func:`~completion_aggregator.path_only.aggregate_path`); nothing else of theirs changes;
* a value is written when no row is stored for its block, or the stored row has another
  aggregation name, or other sums (``AggregateData.same_values``: within 1e-9, a known
  ``last_modified`` different). A written row's ``last_modified`` is the value's, else the
  stored row's, else the snapshot's ``now`` (a row is never stored without one);
* a learner with nothing to store (the course is hidden from them, their graph cannot be
  compiled) has their queued changes resolved unapplied: their mark is cleared, so the next
  update recomputes them in full. When the course itself was not found, every learner's mark
  is cleared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from .data import AggregateData
from .engine import CompletionRow, CourseGraph, aggregate
from .path_only import PathPlan, aggregate_path, graph_digest

#: A row the change set creates or changes: (user id, its new value, its stored value or None).
Change = tuple[int, AggregateData, AggregateData | None]
#: A row change as the totals take it: (user id, new value or None if deleted, stored value or None if new).
RowChange = tuple[int, AggregateData | None, AggregateData | None]


@dataclass(frozen=True)
class LearnerRead:
    """
    What the write path read of one learner.

    ``graph``: their compiled course graph, None when there is nothing to store for them (the
    course is hidden from them, or their graph cannot be compiled, or the course was not
    found). ``mark``: the graph digest recorded at their last full recompute (None: none
    known). ``path``: set when they are updated along their changed paths only (ADR 0018);
    ``completions`` and ``stored`` then hold (at least) the path's leaves and rows, else all
    of the learner's in the course. ``completions``: ``(block key, value, modified)``;
    ``stored``: their stored rows by block key.
    """

    user_id: int
    username: str
    graph: CourseGraph | None = None
    mark: str | None = None
    path: PathPlan | None = None
    completions: Sequence[CompletionRow] = ()
    stored: Mapping[str, AggregateData] = field(default_factory=dict)

    @cached_property
    def values(self) -> list[AggregateData] | None:
        """
        The learner's new aggregates (None: nothing to store, or a path the rows cannot decide).

        A pure function of the fields, computed once per read: the reader asks it to learn
        whether a path read suffices (else it reads the learner in full), the plan uses it.
        """
        if self.graph is None:
            return None
        if self.path is not None:
            return aggregate_path(self.graph, self.path, self.completions, self.stored)
        return aggregate(self.graph, self.completions)


def _no_created(user_id: int, block_key: str) -> datetime | None:
    return None


@dataclass(frozen=True)
class ChunkSnapshot:
    """
    What one chunk of one course read, under its locked stale rows.

    ``stale_ids``: the stale rows locked (resolved by the change set, whatever it writes);
    ``learners``: the known users among their usernames, in the order they were read;
    ``row_ids``: the stored rows' ids by ``(user id, block key)`` (so an upsert meets a row by
    its primary key); ``now``: the time of the read, the write's time; ``course_found``: False
    when the host has no such course; ``unknown_users``: usernames with no user;
    ``created_of(user id, block key)``: when a stored row was created (for the tracking
    events, converted only when asked for; not used by the plan).
    """

    stale_ids: tuple[int, ...]
    now: datetime
    learners: tuple[LearnerRead, ...] = ()
    row_ids: Mapping[tuple[int, str], int] = field(default_factory=dict)
    course_found: bool = True
    unknown_users: tuple[str, ...] = ()
    created_of: Callable[[int, str], datetime | None] = _no_created


class RowWrite(NamedTuple):
    """One row to upsert: its stored id (None: a new row), learner, value and the ``last_modified`` it stores."""

    row_id: int | None
    user_id: int
    value: AggregateData
    last_modified: datetime


@dataclass(frozen=True)
class ChangeSet:
    """
    What one chunk writes; :func:`plan_chunk` of its snapshot.

    ``upserts``: the rows to create or change, in learner order; ``written``: the same rows
    as :data:`Change` (for the tracking events and the totals); ``deletes``: the ids of the
    rows to delete, ``deleted`` their ``(user id, None, stored value)``; ``marks``: the graph
    digests to record, by user id; ``unmarked``: the user ids whose marks to clear;
    ``stale_ids``: the stale rows to resolve; ``usernames`` by user id; ``learner_count``: how
    many learners got values, ``path_learner_count`` how many of them along their paths only;
    ``now``: the write's time (new rows' ``created`` and ``modified``, the marks', the
    events').
    """

    stale_ids: tuple[int, ...]
    now: datetime
    upserts: tuple[RowWrite, ...] = ()
    written: tuple[Change, ...] = ()
    deletes: tuple[int, ...] = ()
    deleted: tuple[RowChange, ...] = ()
    marks: Mapping[int, str] = field(default_factory=dict)
    unmarked: tuple[int, ...] = ()
    usernames: Mapping[int, str] = field(default_factory=dict)
    learner_count: int = 0
    path_learner_count: int = 0

    @property
    def row_changes(self) -> list[RowChange]:
        """Every written and deleted row, as the statistics' totals take them (new minus stored value)."""
        return [*self.written, *self.deleted]

    @property
    def writes_anything(self) -> bool:
        """True when any row, deletion or mark is to be written (the course lock is taken only then)."""
        return bool(self.upserts or self.deletes or self.marks or self.unmarked)


def plan_chunk(snapshot: ChunkSnapshot) -> ChangeSet:
    """
    The change set of a chunk's snapshot (the rules are in this module's docstring).

    Raises:
        ValueError: a learner read along their paths whose rows cannot decide the values
            (``LearnerRead.values`` None with a graph): the reader must read them in full.
    """
    if not snapshot.course_found:
        return ChangeSet(
            stale_ids=snapshot.stale_ids,
            now=snapshot.now,
            unmarked=tuple(learner.user_id for learner in snapshot.learners),
            usernames={learner.user_id: learner.username for learner in snapshot.learners},
        )
    diff = _Diff(snapshot)
    marks: dict[int, str] = {}
    unmarked: list[int] = []
    learner_count = path_learner_count = 0
    for learner in snapshot.learners:
        values = learner.values
        if learner.graph is None or values is None:
            if learner.graph is not None:
                raise ValueError(f"learner {learner.user_id}: a path read that cannot decide the values")
            if learner.mark is not None:
                unmarked.append(learner.user_id)
            continue
        learner_count += 1
        diff.add(learner, values)
        if learner.path is not None:
            path_learner_count += 1
            continue
        diff.delete_others(learner, values)
        digest = graph_digest(learner.graph)
        if digest != learner.mark:
            marks[learner.user_id] = digest
    return ChangeSet(
        stale_ids=snapshot.stale_ids,
        now=snapshot.now,
        upserts=tuple(diff.upserts),
        written=tuple(diff.written),
        deletes=tuple(diff.deletes),
        deleted=tuple(diff.deleted),
        marks=marks,
        unmarked=tuple(unmarked),
        usernames={learner.user_id: learner.username for learner in snapshot.learners},
        learner_count=learner_count,
        path_learner_count=path_learner_count,
    )


class _Diff:
    """The rows of a chunk's learners that differ from the stored ones (collected by :func:`plan_chunk`)."""

    def __init__(self, snapshot: ChunkSnapshot) -> None:
        self.row_ids = snapshot.row_ids
        self.now = snapshot.now
        self.upserts: list[RowWrite] = []
        self.written: list[Change] = []
        self.deletes: list[int] = []
        self.deleted: list[RowChange] = []

    def add(self, learner: LearnerRead, values: list[AggregateData]) -> None:
        """Queue the values that differ from the learner's stored rows."""
        user_id, mine = learner.user_id, learner.stored
        for value in values:
            before = mine.get(value.block_key)
            if before is not None and before.aggregation_name == value.aggregation_name and before.same_values(value):
                continue
            last = value.last_modified or (before.last_modified if before else None) or self.now
            self.upserts.append(RowWrite(self.row_ids.get((user_id, value.block_key)), user_id, value, last))
            self.written.append((user_id, value, before))

    def delete_others(self, learner: LearnerRead, values: list[AggregateData]) -> None:
        """Queue the deletion of the learner's stored rows of blocks that ``values`` (all of theirs) lack."""
        current = {value.block_key for value in values}
        for key, before in learner.stored.items():
            if key not in current:
                self.deletes.append(self.row_ids[(learner.user_id, key)])
                self.deleted.append((learner.user_id, None, before))
