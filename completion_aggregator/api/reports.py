"""
The read path the REST API and the report page serve, one entry point for each read.

* One learner: :func:`get_learner_progress` (fresh, through :func:`progress.get_course_progress`).
* One learner, many courses: :func:`get_user_course_keys` + :func:`get_user_progress`.
* Many learners, one course: :func:`enrolled_learners` (a queryset the caller pages) and
  :func:`get_stored_progress_many` (stored rows of the page's learners in one query; learners
  without rows get ``earned`` 0.0 and the course's real ``possible``): they live in
  :mod:`.stored_progress` and are re-exported here.
* Statistics: :func:`get_course_stats`, :func:`get_mean` and :func:`get_completion_histogram`
  live in :mod:`.stats` and are re-exported here.
* The course progress report: :func:`get_block_display_names` and :func:`get_course_outline`.

Also :func:`submit_block_completion`, the write behind the v0 block completion endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from completion.models import BlockCompletion
from completion.waffle import ENABLE_COMPLETION_TRACKING_SWITCH
from django.contrib.auth.models import AbstractBaseUser
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..adapters import get_adapter
from ..adapters.base import CourseNotFound
from ..data import CourseProgressData
from .exceptions import BlockNotInCourse, CompletionTrackingDisabled, NotEnrolled
from .progress import course_is_known, get_course_progress, get_gone_course_progress
from .stats import (
    MEAN_CACHE_KEY,
    BlockStatsData,
    CompletionStatsData,
    CourseStatsData,
    get_completion_histogram,
    get_course_stats,
    get_mean,
)
from .stored_progress import NO_LOCKED, enrolled_learners, get_stored_progress_many

#: Re-exported: the statistics (:mod:`.stats`) and the many-learner reads (:mod:`.stored_progress`) once lived here.
__all__ = [
    "MEAN_CACHE_KEY",
    "BlockStatsData",
    "CompletionStatsData",
    "CourseStatsData",
    "enrolled_learners",
    "get_block_display_names",
    "get_completion_histogram",
    "get_course_outline",
    "get_course_stats",
    "get_learner_progress",
    "get_mean",
    "get_stored_progress_many",
    "get_user_course_keys",
    "get_user_progress",
    "submit_block_completion",
]

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


def _gone_progress(
    user: AbstractBaseUser, course_key: CourseKey, root_block: UsageKey | None, with_locked: bool
) -> CourseProgressData:
    """A deleted course's answer from its stored rows; ``with_locked`` adds ``0/0`` (nothing known locked)."""
    progress = get_gone_course_progress(user, course_key, root_block)
    return replace(progress, locked=NO_LOCKED) if with_locked else progress


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
