"""The read path for one learner: stored rows, or a fresh computation when work is pending."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from completion.models import BlockCompletion
from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..data import AggregateData, CourseProgressData, LockedData
from ..engine import CompletionRow, CourseGraph, aggregate, locked_figures
from ..models import Aggregator
from .exceptions import BlockNotInCourse
from .graphs import graph_for
from .keys import as_course_key
from .queue import has_pending_work
from .rows import raw_block_key, read_rows


def get_course_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None = None, with_locked: bool = False
) -> CourseProgressData:
    """
    A learner's aggregates for a course, always fresh.

    Stored rows are served when the enrollment has no pending stale work and rows exist;
    otherwise the answer is computed on the fly (read-only: nothing is written, neither here
    nor on the platform: ADR 0011). With ``root_block`` only the aggregators at or below that
    block (the root block included) are in ``blocks``, while the ``course`` entry stays the
    course's own (as the peer's clients read it; ``docs/rest_api.rst``, ADR 0013). With
    ``with_locked`` the answer's ``locked`` holds the figures over the blocks the learner may
    not open (:func:`locked_progress`), for the whole course like ``completion`` (also with
    ``root_block``), so that ``completion - locked`` is what the learner can open.

    Raises:
        CourseNotFound: the host has no such course.
        BlockNotInCourse: ``root_block`` is not in the learner's structure.
    """
    course_key = as_course_key(course_key)
    graph = graph_for(get_adapter().get_course_structure(course_key, user))
    values, fresh = _values(user, course_key, graph)
    progress = _shape(user, course_key, graph, values, fresh, root_block)
    if with_locked:
        progress = replace(progress, locked=locked_progress(graph, user.pk, course_key))
    return progress


def locked_progress(
    graph: CourseGraph,
    user_id: int,
    course_key: CourseKey,
    root_block: UsageKey | None = None,
    completions: Iterable[CompletionRow] | None = None,
) -> LockedData:
    """
    A learner's figures over the locked leaves of ``graph`` at or below ``root_block``.

    The course when ``root_block`` is None (``engine.locked_figures``). ``completions`` (``(block key, value,
    modified)`` rows) are read from BlockCompletion when not given and the graph has locked
    leaves; a graph without any answers ``0/0`` (percent 1.0) without a query.
    """
    top = str(root_block) if root_block is not None else None
    if not graph.has_locked:
        return locked_figures(graph, (), top)
    if completions is None:
        completions = (
            BlockCompletion.objects.filter(user_id=user_id, context_key=course_key)
            .annotate(raw_key=raw_block_key())
            .values_list("raw_key", "completion", "modified")
        )
    return locked_figures(graph, completions, top)


def compute_course_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None = None
) -> CourseProgressData:
    """
    A learner's aggregates computed from completions now, ignoring stored rows (read-only).

    Raises:
        CourseNotFound, BlockNotInCourse: as :func:`get_course_progress`.
    """
    course_key = as_course_key(course_key)
    graph = graph_for(get_adapter().get_course_structure(course_key, user))
    return _shape(user, course_key, graph, _computed(user, course_key, graph), True, root_block)


def _values(user: AbstractBaseUser, course_key: CourseKey, graph: CourseGraph) -> tuple[list[AggregateData], bool]:
    """Stored rows when they are current (no pending work, same structure), else a fresh computation."""
    if not has_pending_work(user.get_username(), course_key):
        mine = Aggregator.objects.filter(user_id=user.pk, course_key=course_key)
        rows = {value.block_key: value for _user, value in read_rows(mine)}
        if rows_match_structure(graph, rows):
            return [rows[key] for key in graph.aggregator_keys], False
    return _computed(user, course_key, graph), True


def rows_match_structure(graph: CourseGraph, rows: Mapping[str, AggregateData]) -> bool:
    """
    True when stored rows were written for the learner's current structure (ADR 0012).

    The rows carry the shape of the structure they were computed from: which aggregators
    exist and, for each, how many leaves it counts (``possible``, ``optional_possible``).
    A publish that adds or removes content under any aggregator, a block whose start date
    has passed, or a changed group membership gives the learner a graph with another shape,
    so the stored answer is not served and the caller computes fresh.
    """
    for index, key in enumerate(graph.aggregator_keys):
        row = rows.get(key)
        if row is None:
            return False
        if abs(row.possible - graph.possible[index]) > _TOLERANCE:
            return False
        if abs(row.optional_possible - graph.optional_possible[index]) > _TOLERANCE:
            return False
    return True


#: Leaf counts are sums of 1.0: equal counts are equal floats; this only absorbs rounding.
_TOLERANCE = 1e-6


def _computed(user: AbstractBaseUser, course_key: CourseKey, graph: CourseGraph) -> list[AggregateData]:
    rows = (
        BlockCompletion.objects.filter(user_id=user.pk, context_key=course_key)
        .annotate(raw_key=raw_block_key())
        .values_list("raw_key", "completion", "modified")
    )
    return aggregate(graph, rows)


def _shape(
    user: AbstractBaseUser,
    course_key: CourseKey,
    graph: CourseGraph,
    values: list[AggregateData],
    fresh: bool,
    root_block: UsageKey | None,
) -> CourseProgressData:
    top = graph.root
    course_entry = next((value for value in values if value.block_key == top), None)
    if course_entry is None:  # the root is not a stored type (or the course is empty)
        course_entry = AggregateData(top, "course", 0.0, 0.0, 1.0)
    if root_block is not None:
        try:
            keep = graph.aggregators_under(str(root_block))
        except KeyError:
            raise BlockNotInCourse(f"{root_block} is not in course {course_key}") from None
        values = [value for index, value in enumerate(values) if index in keep]
    return CourseProgressData(
        course_key=str(course_key),
        user_id=user.pk,
        username=user.get_username(),
        course=course_entry,
        blocks=tuple(value for value in values if value.block_key != graph.root),
        fresh=fresh,
    )


def get_gone_course_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None = None
) -> CourseProgressData:
    """
    A learner's progress in a course the host no longer has a structure for, from stored rows.

    A deleted course keeps its ``Aggregator`` rows, and the peer keeps answering from them
    (issue 17, point 5). The course entry is the learner's stored course row; a learner
    without one gets ``earned`` 0.0 and the largest ``possible`` stored for the course (the
    course's last known size). Without a structure the subtree of ``root_block`` is unknown:
    with ``root_block`` the blocks hold that block's own stored row only.

    Raises:
        CourseNotFound: no stored row of the course at all (the course is unknown).
        BlockNotInCourse: ``root_block`` has no stored row for the learner.
    """
    course_key = as_course_key(course_key)
    course_rows = Aggregator.objects.filter(course_key=course_key)
    mine = [value for _user, value in read_rows(course_rows.filter(user_id=user.pk))]
    course_entry = next((value for value in mine if value.aggregation_name == "course"), None)
    if course_entry is None:
        largest = next(read_rows(course_rows.filter(aggregation_name="course").order_by("-possible")[:1]), None)
        if largest is None:
            raise CourseNotFound(f"no course {course_key} and no stored rows of it")
        possible = float(largest[1].possible)
        course_entry = AggregateData(largest[1].block_key, "course", 0.0, possible, 0.0 if possible else 1.0)
    blocks = sorted((value for value in mine if value.aggregation_name != "course"), key=lambda value: value.block_key)
    if root_block is not None:
        blocks = [value for value in mine if value.block_key == str(root_block)]
        if not blocks:
            raise BlockNotInCourse(f"{root_block} is not in course {course_key}")
    return CourseProgressData(
        course_key=str(course_key),
        user_id=user.pk,
        username=user.get_username(),
        course=course_entry,
        blocks=tuple(blocks),
        fresh=False,
    )


def course_is_known(course_key: CourseKey) -> bool:
    """True when the host has the course, or stored rows of it remain (a deleted course)."""
    return get_adapter().course_exists(course_key) or Aggregator.objects.filter(course_key=course_key).exists()


def block_is_known(user: AbstractBaseUser, course_key: CourseKey, block_key: UsageKey) -> bool:
    """
    True when ``block_key`` is in the course as ``user`` sees it.

    For a deleted course: when the block has stored rows. False for an unknown course.
    """
    try:
        structure = get_adapter().get_course_structure(course_key, user)
    except CourseNotFound:
        return Aggregator.objects.filter(course_key=course_key, block_key=block_key).exists()
    return str(block_key) in structure.blocks
