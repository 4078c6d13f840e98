"""
The read path for many learners and for course statistics (what the REST API serves).

* One learner: :func:`get_learner_progress` (fresh, through :func:`progress.get_course_progress`).
* One learner, many courses: :func:`get_user_course_keys` + :func:`get_user_progress`.
* Many learners, one course: :func:`enrolled_learners` (a queryset the caller pages) and
  :func:`get_stored_progress_many` (stored rows of the page's learners in one query; learners
  without rows get ``earned`` 0.0 and the course's real ``possible``).
* Statistics: :func:`get_course_stats`, :func:`get_mean` and :func:`get_completion_histogram`
  live in :mod:`.stats` and are re-exported here.

Also :func:`submit_block_completion`, the write behind the v0 block completion endpoint.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace

from completion.models import BlockCompletion
from completion.waffle import ENABLE_COMPLETION_TRACKING_SWITCH
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..data import AggregateData, CourseProgressData, LockedData
from ..engine import CourseGraph, aggregate
from ..models import Aggregator
from .exceptions import CompletionTrackingDisabled, NotEnrolled
from .graphs import graph_for
from .progress import BlockNotInCourse, course_is_known, get_course_progress, get_gone_course_progress, locked_progress
from .rows import ROW_FIELDS, raw_block_key
from .stats import (  # noqa: F401  (re-exported: the statistics used to live here)
    COURSE,
    MEAN_CACHE_KEY,
    BlockStatsData,
    CompletionStatsData,
    CourseStatsData,
    get_completion_histogram,
    get_course_stats,
    get_mean,
)

log = logging.getLogger(__name__)


# One learner ----------------------------------------------------------------------------


def get_learner_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None = None, with_locked: bool = False
) -> CourseProgressData:
    """
    An actively enrolled learner's fresh progress in a course (see ``get_course_progress``).

    ``with_locked`` adds the locked figures. A course the host no longer has (deleted)
    answers from its stored rows (``get_gone_course_progress``).

    Raises:
        CourseNotFound: the host has no such course and no stored row of it remains (checked
            first: a learner asking about an unknown course is told that, not "not enrolled").
        NotEnrolled: the user is not actively enrolled in the course.
        BlockNotInCourse: ``root_block`` is not in the learner's structure.
    """
    if not get_adapter().is_enrolled(user, course_key):
        if not course_is_known(course_key):
            raise CourseNotFound(f"no course {course_key}")
        raise NotEnrolled(f"{user.get_username()} is not enrolled in {course_key}")
    try:
        return get_course_progress(user, course_key, root_block, with_locked=with_locked)
    except CourseNotFound:
        # A deleted course: its stored rows still answer (issue 17, point 5).
        return _gone_progress(user, course_key, root_block, with_locked)


def get_user_course_keys(user: AbstractBaseUser, mobile_only: bool = False) -> list[CourseKey]:
    """
    The keys of the user's active enrollments, ordered by course key.

    ``mobile_only`` keeps the courses available on mobile.
    """
    adapter = get_adapter()
    keys = list(adapter.user_course_keys(user))
    if mobile_only and keys:
        mobile = {str(key) for key in adapter.mobile_available(keys)}
        keys = [key for key in keys if str(key) in mobile]
    return sorted(keys, key=str)


def get_user_progress(
    user: AbstractBaseUser, course_keys: Iterable[CourseKey], with_locked: bool = False
) -> list[CourseProgressData]:
    """
    The user's fresh progress in each of ``course_keys`` (in that order).

    ``with_locked`` adds the locked figures.

    Courses the host no longer has answer from their stored rows; those without any stored
    row are left out (with a warning), not an error.
    """
    results = []
    for course_key in course_keys:
        try:
            results.append(get_course_progress(user, course_key, with_locked=with_locked))
        except CourseNotFound:
            try:
                results.append(_gone_progress(user, course_key, None, with_locked))
            except CourseNotFound:
                log.warning("completion_aggregator: %s is enrolled in %s, which has no structure", user, course_key)
    return results


#: The locked figures of a course the host no longer has: no block is known to be locked.
NO_LOCKED = LockedData(earned=0.0, possible=0.0, percent=1.0)


def _gone_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None, with_locked: bool
) -> CourseProgressData:
    """A deleted course's answer from its stored rows; ``with_locked`` adds ``0/0`` (nothing known locked)."""
    progress = get_gone_course_progress(user, course_key, root_block)
    return replace(progress, locked=NO_LOCKED) if with_locked else progress


# Many learners --------------------------------------------------------------------------


def enrolled_learners(course_key: CourseKey, user_ids: Iterable[int] | None = None) -> QuerySet:
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
    block_types: Iterable[str] = (),
    root_block: UsageKey | None = None,
    *,
    timestamps: bool = True,
    optional: bool = True,
    locked: bool = False,
) -> list[CourseProgressData]:
    """
    The stored progress of ``users`` in a course, one entry per user in the given order.

    Reads the users' Aggregator rows in one query (no recomputation, pending work or not).
    A user without a course row gets ``earned`` 0.0 and the course's real ``possible`` from a
    representative learner's course graph, loaded once per call. ``blocks`` of each entry hold
    the aggregators of ``block_types`` (in course order); with ``root_block`` only those at or
    below it (the root block included), while the course entry stays the course's. A course
    the host no longer has answers from its stored rows (blocks by key; learners without a
    row get the largest stored ``possible``). With ``timestamps=False`` the rows'
    ``last_modified`` is not read (every value's is None): converting it is most of the
    per-row cost of the query on SQLite, and the REST answers do not show it. With
    ``optional=False`` (and ``timestamps=False``) the ``optional_*`` columns are not read
    either (every value's are the defaults): a third fewer columns for a staff page that
    does not show them. With ``locked`` each entry's ``locked`` holds the learner's figures
    over the blocks they may not open: their own structures are read (one adapter call for the
    page) and, when some are locked, their completions (one query).

    Raises:
        CourseNotFound: the course structure is needed, the host has none and no row of the
            course is stored.
        BlockNotInCourse: ``root_block`` is not in the representative learner's structure (a
            deleted course: no stored row of it on the page).
    """
    users = list(users)
    if not users:
        return []
    types = set(block_types)
    wanted = types | {COURSE}
    if root_block is not None:
        wanted.add(root_block.block_type)
    rows: dict[int, dict[str, AggregateData]] = {user.pk: {} for user in users}
    course_rows: dict[int, AggregateData] = {}  # each user's first course row
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
        if value.block_type == COURSE:
            course_rows.setdefault(row[0], value)

    def course_row(user_id: int) -> AggregateData | None:
        return course_rows.get(user_id)

    missing = [user for user in users if course_row(user.pk) is None]
    graph: CourseGraph | None = None
    gone_course: AggregateData | None = None  # a deleted course's entry for learners without a row
    if types or root_block is not None or missing:
        try:
            graph = _representative_graph(course_key, missing or users)
        except CourseNotFound:
            # A deleted course answers from its stored rows (issue 17, point 5).
            gone_course = get_gone_course_progress(missing[0], course_key).course if missing else None
            if root_block is not None and not any(str(root_block) in mine for mine in rows.values()):
                raise BlockNotInCourse(f"{root_block} is not in course {course_key}") from None

    top = graph.root if graph is not None else None
    root_key = str(root_block) if root_block is not None else None
    keep: frozenset[str] | None = None
    zeros: dict[str, AggregateData] = {}
    order: dict[str, int] = {}
    if graph is not None:
        if root_key is not None:
            try:
                under = graph.aggregators_under(root_key)
            except KeyError:
                raise BlockNotInCourse(f"{root_block} is not in course {course_key}") from None
            keep = frozenset(graph.aggregator_keys[index] for index in under)
        zeros = {value.block_key: value for value in aggregate(graph, ())}
        order = {key: index for index, key in enumerate(graph.aggregator_keys)}
    # The root block itself is part of its subtree (as in a single learner's answer); only
    # the course root is never listed. Without a graph (a deleted course) the subtree is
    # unknown: with ``root_block`` only that block's own row is listed.
    never = graph.root if graph is not None else top
    if graph is None and root_key is not None:
        keep = frozenset((root_key,))
    # Course order: the graph's keys that may be listed; stored keys the graph lacks follow,
    # by key.
    listable = [key for key in sorted(order, key=order.__getitem__) if key != never and (keep is None or key in keep)]

    def listed(mine: dict[str, AggregateData]) -> tuple[AggregateData, ...]:
        if not types:
            return ()
        chosen = [value for value in map(mine.get, listable) if value is not None and value.block_type in types]
        if keep is None or graph is None:
            chosen.extend(
                sorted(
                    (
                        value
                        for key, value in mine.items()
                        if key not in order
                        and key != never
                        and value.block_type in types
                        and value.block_type != COURSE
                        and (keep is None or key in keep)
                    ),
                    key=lambda value: value.block_key,
                )
            )
        return tuple(chosen)

    zero_blocks: tuple[AggregateData, ...] | None = None
    results = []
    for user in users:
        course_entry = course_row(user.pk)
        if course_entry is None:
            course_entry = (
                (zeros.get(top) if top is not None else None)
                or gone_course
                or AggregateData(top or "", COURSE, 0.0, 0.0, 1.0)
            )
            if zero_blocks is None:
                zero_blocks = listed(zeros)
            blocks = zero_blocks
        else:
            blocks = listed(rows[user.pk])
        results.append(
            CourseProgressData(
                course_key=str(course_key),
                user_id=user.pk,
                username=user.get_username(),
                course=course_entry,
                blocks=blocks,
                fresh=False,
            )
        )
    if locked:
        results = _with_locked(course_key, users, results, root_block)
    return results


def _with_locked(
    course_key: CourseKey,
    users: Sequence[AbstractBaseUser],
    results: list[CourseProgressData],
    root_block: UsageKey | None,
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
    completions: dict[int, list] = {user.pk: [] for user in users}
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


def _representative_graph(course_key: CourseKey, candidates: Sequence[AbstractBaseUser]) -> CourseGraph:
    """The graph of one learner's view (a non-staff candidate when there is one)."""
    user = next((user for user in candidates if not getattr(user, "is_staff", False)), candidates[0])
    return graph_for(get_adapter().get_course_structure(course_key, user))


# The v0 block completion write ----------------------------------------------------------


def submit_block_completion(
    user: AbstractBaseUser, course_key: CourseKey, block_key: UsageKey, completion: float
) -> bool:
    """
    Record the user's completion of a block of a course they are enrolled in.

    Returns True when a BlockCompletion was created, False when one was updated. The
    completion's own signals queue the aggregation.

    Raises:
        CourseNotFound: the host has no such course (checked before enrollment when the user
            is not enrolled: an unknown course is not answered "not enrolled").
        NotEnrolled: the user is not actively enrolled in the course.
        BlockNotInCourse: the block is not in the user's course structure.
        ValueError: ``completion`` is not between 0.0 and 1.0.
        CompletionTrackingDisabled: edx-completion's tracking switch is off.
    """
    if not 0.0 <= completion <= 1.0:
        raise ValueError(f"completion must be between 0.0 and 1.0, not {completion}")
    adapter = get_adapter()
    if not adapter.is_enrolled(user, course_key):
        if not course_is_known(course_key):
            raise CourseNotFound(f"no course {course_key}")
        raise NotEnrolled(f"{user.get_username()} is not enrolled in {course_key}")
    if block_key.course_key != course_key:
        raise BlockNotInCourse(f"{block_key} is not in course {course_key}")
    structure = adapter.get_course_structure(course_key, user)
    if str(block_key) not in structure.blocks:
        raise BlockNotInCourse(f"{block_key} is not in course {course_key}")
    if not ENABLE_COMPLETION_TRACKING_SWITCH.is_enabled():
        raise CompletionTrackingDisabled("completion tracking is disabled")
    _obj, created = BlockCompletion.objects.submit_completion(user=user, block_key=block_key, completion=completion)
    return bool(created)


# The course progress report (instructors' page) -------------------------------------------


def get_block_display_names(course_key: CourseKey, block_keys: Iterable[str]) -> dict[str, str]:
    """
    ``{block key: display name}`` of blocks of the course, for labels people read.

    Blocks without a name are left out (show their block id). The host adapter's
    ``block_display_names``.

    Raises:
        CourseNotFound: the host has no such course.
    """
    return get_adapter().block_display_names(course_key, block_keys)


def get_course_outline(course_key: CourseKey, viewer: AbstractBaseUser) -> list[tuple[str, tuple[str, ...]]]:
    """
    The course's chapters in course order, each with its sequentials, as ``viewer`` sees it.

    Raises:
        CourseNotFound: the host has no such course.
    """
    structure = get_adapter().get_course_structure(course_key, viewer)
    blocks = structure.blocks
    root = blocks.get(structure.root)
    outline = []
    for chapter in root.children if root is not None else ():
        block = blocks.get(chapter)
        if block is None or block.block_type != "chapter":
            continue
        sequentials = tuple(
            child for child in block.children if child in blocks and blocks[child].block_type == "sequential"
        )
        outline.append((chapter, sequentials))
    return outline
