"""
Many learners of one course: their stored progress, a page at a time (what the staff listing and the report serve).

:func:`enrolled_learners` is a queryset the caller pages; :func:`get_stored_progress_many`
reads the stored rows of a page's learners in one query. Learners without rows get ``earned``
0.0 and the course's real ``possible``, from the representative learner's view
(:func:`~completion_aggregator.api.sums.representative`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from completion.models import BlockCompletion
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..data import AggregateData, CourseProgressData, LockedData
from ..engine import CompletionRow, CourseGraph, aggregate
from ..models import Aggregator
from .exceptions import BlockNotInCourse
from .graphs import graph_for
from .progress import course_is_known, get_gone_course_progress, locked_progress
from .rows import ROW_FIELDS, raw_block_key
from .sums import COURSE, representative

#: The locked figures of a course the host no longer has: no block is known to be locked.
NO_LOCKED = LockedData(earned=0.0, possible=0.0, percent=1.0)

#: ``{user id: {block key: stored value}}`` of a page of learners.
StoredRows = dict[int, dict[str, AggregateData]]


def enrolled_learners(course_key: CourseKey, user_ids: Iterable[int] | None = None) -> QuerySet[Any]:
    """
    The course's actively enrolled users, ordered by id (optionally only ``user_ids``).

    The caller pages the queryset, then hands a page to :func:`get_stored_progress_many`.

    Raises:
        CourseNotFound: the host has no such course and no stored row of it remains.
    """
    adapter = get_adapter()
    if not course_is_known(course_key):
        raise CourseNotFound(f"no course {course_key}")
    learners = adapter.enrolled_users(course_key)
    if user_ids is not None:
        learners = learners.filter(id__in=list(user_ids))
    return learners.order_by("id")


def get_stored_progress_many(
    course_key: CourseKey,
    users: Sequence[AbstractBaseUser],
    aggregation_names: Iterable[str] = (),
    root_block: UsageKey | None = None,
    *,
    timestamps: bool = True,
    optional: bool = True,
    locked: bool = False,
) -> list[CourseProgressData]:
    """
    The stored progress of ``users`` in a course, one entry per user in the given order.

    Reads the users' Aggregator rows in one query (no recomputation, pending work or not).
    A user without a course row gets ``earned`` 0.0 and the course's real ``possible`` from the
    representative learner's course graph, loaded once per call. ``blocks`` of each entry hold
    the aggregators of ``aggregation_names`` (in course order); with ``root_block`` only those at or
    below it (the root block included), while the course entry stays the course's. A course
    the host no longer has answers from its stored rows (blocks by key; learners without a
    row get the largest stored ``possible``). ``timestamps=False`` leaves ``last_modified``
    unread (None: converting it is most of the per-row cost on SQLite, and the REST answers do
    not show it); ``optional=False`` with it leaves the ``optional_*`` columns unread (the
    defaults). ``locked`` fills each entry's ``locked`` with the learner's figures over the
    blocks they may not open: their own structures (one adapter call for the page) and, when
    some are locked, their completions (one query).

    Raises:
        CourseNotFound: the course structure is needed, the host has none and no row of the
            course is stored.
        BlockNotInCourse: ``root_block`` is not in the representative learner's structure (a
            deleted course: no stored row of it on the page).
    """
    users = list(users)
    if not users:
        return []
    wanted = set(aggregation_names)
    rows, course_rows = _stored_rows(course_key, users, wanted, root_block, timestamps, optional)
    missing = [user for user in users if user.pk not in course_rows]
    listing = _listing(course_key, rows, wanted, root_block, missing or users, bool(missing))
    results = [
        CourseProgressData(
            course_key=str(course_key),
            user_id=user.pk,
            username=user.get_username(),
            course=course_rows.get(user.pk) or listing.course_entry,
            blocks=listing.listed(rows[user.pk]) if user.pk in course_rows else listing.zero_blocks,
            fresh=False,
        )
        for user in users
    ]
    if locked:
        results = _with_locked(course_key, users, results)
    return results


def _stored_rows(
    course_key: CourseKey,
    users: Sequence[AbstractBaseUser],
    aggregation_names: set[str],
    root_block: UsageKey | None,
    timestamps: bool,
    optional: bool,
) -> tuple[StoredRows, dict[int, AggregateData]]:
    """
    The users' stored rows of ``aggregation_names``, the course and ``root_block``'s type.

    Also each user's first course row.
    """
    wanted = aggregation_names | {COURSE}
    if root_block is not None:
        wanted.add(root_block.block_type)
    rows: StoredRows = {user.pk: {} for user in users}
    course_rows: dict[int, AggregateData] = {}
    fields = ROW_FIELDS if timestamps else tuple(name for name in ROW_FIELDS if name != "last_modified")
    if not optional and not timestamps:  # AggregateData's fields in order: the optional ones precede last_modified
        fields = tuple(name for name in fields if not name.startswith("optional_"))
    # A row is (user_id, *AggregateData's fields in order): one slice per row, no unpacking.
    for row in (
        Aggregator.objects.filter(course_key=course_key, user_id__in=list(rows), aggregation_name__in=sorted(wanted))
        .annotate(raw_key=raw_block_key())
        .values_list(*fields)
    ):
        value = AggregateData(*row[1:])
        rows[row[0]][value.block_key] = value
        if value.aggregation_name == COURSE:
            course_rows.setdefault(row[0], value)
    return rows, course_rows


@dataclass(frozen=True)
class _Listing:
    """
    Which stored values a page lists, in which order, and what a learner without rows gets.

    ``order``: the graph's aggregator keys → course position (empty without a graph);
    ``listable``: those that may be listed, in course order; ``keep``: the keys under
    ``root_block`` (None: no root block); ``never``: the course root, never listed.
    """

    aggregation_names: frozenset[str]
    course_entry: AggregateData
    order: dict[str, int] = field(default_factory=dict)
    listable: tuple[str, ...] = ()
    keep: frozenset[str] | None = None
    never: str | None = None
    has_graph: bool = False
    zeros: dict[str, AggregateData] = field(default_factory=dict)

    def listed(self, mine: dict[str, AggregateData]) -> tuple[AggregateData, ...]:
        """One learner's listed values: the graph's in course order, then stored keys the graph lacks, by key."""
        if not self.aggregation_names:
            return ()
        aggregation_names = self.aggregation_names
        chosen = [
            value
            for value in map(mine.get, self.listable)
            if value is not None and value.aggregation_name in aggregation_names
        ]
        if self.keep is None or not self.has_graph:
            chosen.extend(
                sorted(
                    (
                        value
                        for key, value in mine.items()
                        if key not in self.order
                        and key != self.never
                        and value.aggregation_name in self.aggregation_names
                        and value.aggregation_name != COURSE
                        and (self.keep is None or key in self.keep)
                    ),
                    key=lambda value: value.block_key,
                )
            )
        return tuple(chosen)

    @cached_property
    def zero_blocks(self) -> tuple[AggregateData, ...]:
        """The blocks of a learner without rows: the graph's aggregators with nothing earned."""
        return self.listed(self.zeros)


def _listing(
    course_key: CourseKey,
    rows: StoredRows,
    aggregation_names: set[str],
    root_block: UsageKey | None,
    candidates: Sequence[AbstractBaseUser],
    missing: bool,
) -> _Listing:
    """
    The listing of a page, from the representative learner's graph when one is needed.

    Raises:
        BlockNotInCourse: ``root_block`` is in neither the graph nor (a deleted course) the stored rows.
        CourseNotFound: a deleted course whose first learner without rows finds no stored row.
    """
    root_key = str(root_block) if root_block is not None else None
    if not (aggregation_names or root_block is not None or missing):
        return _Listing(frozenset(aggregation_names), AggregateData("", COURSE, 0.0, 0.0, 1.0))
    try:
        chosen = representative(candidates)
        assert chosen is not None  # a page is never empty here
        graph = graph_for(get_adapter().get_course_structure(course_key, chosen))
    except CourseNotFound:
        # A deleted course answers from its stored rows (issue 17, point 5).
        gone = get_gone_course_progress(candidates[0], course_key).course if missing else None
        if root_key is not None and not any(root_key in mine for mine in rows.values()):
            raise BlockNotInCourse(f"{root_block} is not in course {course_key}") from None
        course_entry = gone or AggregateData("", COURSE, 0.0, 0.0, 1.0)
        keep = frozenset((root_key,)) if root_key is not None else None
        return _Listing(frozenset(aggregation_names), course_entry, keep=keep)
    return _graph_listing(course_key, graph, aggregation_names, root_block)


def _graph_listing(
    course_key: CourseKey, graph: CourseGraph, aggregation_names: set[str], root_block: UsageKey | None
) -> _Listing:
    """The listing of a course with a graph: course order, the subtree of ``root_block``, the zero values."""
    keep: frozenset[str] | None = None
    if root_block is not None:
        try:
            under = graph.aggregators_under(str(root_block))
        except KeyError:
            raise BlockNotInCourse(f"{root_block} is not in course {course_key}") from None
        keep = frozenset(graph.aggregator_keys[index] for index in under)
    zeros = {value.block_key: value for value in aggregate(graph, ())}
    order = {key: index for index, key in enumerate(graph.aggregator_keys)}
    # The root block itself is part of its subtree (as in a single learner's answer); only
    # the course root is never listed.
    listable = tuple(key for key in graph.aggregator_keys if key != graph.root and (keep is None or key in keep))
    course_entry = zeros.get(graph.root) or AggregateData(graph.root, COURSE, 0.0, 0.0, 1.0)
    return _Listing(frozenset(aggregation_names), course_entry, order, listable, keep, graph.root, True, zeros)


def _with_locked(
    course_key: CourseKey, users: Sequence[AbstractBaseUser], results: list[CourseProgressData]
) -> list[CourseProgressData]:
    """
    ``results`` with each learner's locked figures (their own graphs; one completions query at most).

    A course the host no longer has answers ``0/0`` for everyone (its stored rows keep no lock).
    """
    try:
        structures = get_adapter().get_course_structures(course_key, users)
    except CourseNotFound:
        return [replace(item, locked=NO_LOCKED) for item in results]
    graphs = {user.pk: graph_for(structures[user.pk]) for user in users}
    completions: dict[int, list[CompletionRow]] = {user.pk: [] for user in users}
    if any(graph.has_locked for graph in graphs.values()):
        for user_id, block_key, value, modified in (
            BlockCompletion.objects.filter(context_key=course_key, user_id__in=sorted(completions))
            .annotate(raw_key=raw_block_key())
            .values_list("user_id", "raw_key", "completion", "modified")
        ):
            completions[user_id].append((block_key, value, modified))
    return [
        replace(
            item,
            locked=locked_progress(graphs[item.user_id], item.user_id, course_key, None, completions[item.user_id]),
        )
        for item in results
    ]
