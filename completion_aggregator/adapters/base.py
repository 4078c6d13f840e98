"""
The interface every host adapter implements.

The api layer asks the host only these questions; the edx-platform adapter answers them
with edx-platform's functions, the standalone adapter with ``completion_aggregator.standalone``.
"""
from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from opaque_keys.edx.keys import CourseKey

from ..data import CourseStartDatesData, CourseStructureData

#: Roles that give course-scoped staff powers in the REST API.
COURSE_STAFF_ROLES = frozenset({"staff", "instructor"})


class CourseNotFound(LookupError):
    """The host knows no such course (or it has no published structure)."""


class HostAdapter(abc.ABC):
    """What the aggregator needs from the LMS it runs in."""

    @abc.abstractmethod
    def get_course_structures(
        self, course_key: CourseKey, users: Sequence[AbstractBaseUser]
    ) -> Mapping[int, CourseStructureData]:
        """
        Each user's visible course structure, keyed by user id.

        Users whose visible trees are identical get the same object (same ``version``), so the
        caller compiles one graph for them. The root is always among the blocks: a user who
        cannot see the course root (not released yet, staff-only) gets the root alone, with
        ``root_hidden`` set (an empty course; ADR 0015).

        Raises:
            CourseNotFound: the course does not exist or has no structure.
        """

    def get_course_structure(self, course_key: CourseKey, user: AbstractBaseUser) -> CourseStructureData:
        """One user's visible structure. Raises CourseNotFound like ``get_course_structures``."""
        return self.get_course_structures(course_key, [user])[user.pk]

    def course_start_dates(self, course_key: CourseKey) -> CourseStartDatesData:
        """
        The course's block start dates (and personalised ones, where the host has them).

        ``run_aggregator_service`` marks a course's learners stale when one of these passes
        (ADR 0012). The default knows no dates (an adapter that cannot tell: no reaction).

        Raises:
            CourseNotFound: the course does not exist or has no structure.
        """
        return CourseStartDatesData(course_key=str(course_key))

    @abc.abstractmethod
    def course_exists(self, course_key: CourseKey) -> bool:
        """True when the host has a published structure for the course."""

    def all_course_keys(self) -> list[CourseKey]:
        """Every course the host knows (used by ``reaggregate_course --all``); none by default."""
        return []

    @abc.abstractmethod
    def enrolled_users(self, course_key: CourseKey) -> QuerySet[Any]:
        """A queryset of the users actively enrolled in the course."""

    @abc.abstractmethod
    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        """True when the user is actively enrolled."""

    @abc.abstractmethod
    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        """The keys of the user's active enrollments."""

    @abc.abstractmethod
    def role_holder_ids(self, course_key: CourseKey, roles: Iterable[str] | None = None) -> set[int]:
        """Ids of users holding any of ``roles`` (all roles when None) for the course or its org."""

    @abc.abstractmethod
    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        """Ids of the members of a cohort of the course (empty when no such cohort)."""

    @abc.abstractmethod
    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        """The subset of ``course_keys`` available on mobile."""

    def block_display_names(self, course_key: CourseKey, block_keys: Iterable[str]) -> dict[str, str]:
        """
        ``{block key: display name}`` of the given blocks of the course's current structure.

        For people-facing labels (the report, the progress bar). Blocks without a name are left
        out (callers show the block id); none by default.

        Raises:
            CourseNotFound: the course does not exist or has no structure.
        """
        return {}

    def is_course_staff(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        """Global staff, or a staff/instructor role for the course or its org."""
        if getattr(user, "is_staff", False):
            return True
        return user.pk in self.role_holder_ids(course_key, COURSE_STAFF_ROLES)

    def site_origins(self) -> list[str]:
        """
        The host's other origins where course content may embed the progress bar.

        Besides the page's own (``'self'``): CSP ``frame-ancestors`` sources such as
        ``https://apps.example.com``. None by default: the standalone host serves everything
        from its own origin.
        """
        return []
