"""
The host adapter over the standalone host's models (``completion_aggregator.standalone``).

Structures are read once per published version (:class:`~.structure.StoredStructure`) and each
learner's visible tree is derived from it by the rules of :mod:`.visibility`; learners whose
visible trees are equal share one cached ``CourseStructureData``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

from ..adapters.base import COURSE_STAFF_ROLES, CourseNotFound, HostAdapter
from ..bounded_cache import BoundedCache
from ..conf import get_setting
from ..data import BlockData, CourseStartDatesData, CourseStructureData
from .structure import StoredStructure
from .visibility import CohortGroup, hidden_blocks, learner_groups, library_picks, locked_blocks

_CACHE_SIZE = 64
_VARIANT_CACHE_SIZE = 512  # library selections multiply the variants of a course
#: The fields of ``CourseBlock`` a :class:`StoredStructure` is built from.
_BLOCK_FIELDS = (
    "block_key",
    "block_type",
    "display_name",
    "children",
    "start",
    "visible_to_staff_only",
    "optional_completion",
    "group_access",
    "max_count",
    "extra",
)


class StandaloneAdapter(HostAdapter):
    """Answers the aggregator's questions from the standalone host's tables."""

    def __init__(self) -> None:
        self._full: BoundedCache[int, StoredStructure] = BoundedCache(_CACHE_SIZE)
        self._variants: BoundedCache[Hashable, CourseStructureData] = BoundedCache(_VARIANT_CACHE_SIZE)

    def clear_cache(self) -> None:
        """Forget cached structures (tests reuse ids after rollbacks)."""
        self._full.clear()
        self._variants.clear()

    # Course structure -------------------------------------------------------------------
    def _latest(self, course_key: CourseKey) -> StoredStructure:
        """
        The course's latest structure version, read once per version (an LRU of :data:`_CACHE_SIZE`).

        Raises:
            CourseNotFound: no published structure.
        """
        from .models import CourseBlock, CourseStructure

        head = (
            CourseStructure.objects.filter(course__course_key=course_key)
            .order_by("-version")
            .values_list("id", "version", "root_block_key")
            .first()
        )
        if head is None:
            raise CourseNotFound(f"no published structure for {course_key}")
        structure_id, version, root = head

        def read() -> StoredStructure:
            rows = list(CourseBlock.objects.filter(structure_id=structure_id).values(*_BLOCK_FIELDS))
            for row in rows:
                row["block_key"] = str(row["block_key"])
            return StoredStructure(structure_id, str(course_key), version, str(root), rows)

        return self._full.get_or_compute(structure_id, read)

    def _cached_variant(self, key: Hashable, build: Callable[[], CourseStructureData]) -> CourseStructureData:
        """The variant cached under ``key``, built by ``build()`` on a miss."""
        return self._variants.get_or_compute(key, build)

    def _variant(
        self, full: StoredStructure, hidden: frozenset[str], locked: frozenset[str] = frozenset()
    ) -> CourseStructureData:
        """The tree without the ``hidden`` blocks, with the ``locked`` ones flagged (cached)."""
        return self._cached_variant(
            (full.structure_id, hidden, locked), lambda: self._build_variant(full, hidden, locked)
        )

    @staticmethod
    def _build_variant(full: StoredStructure, hidden: frozenset[str], locked: frozenset[str]) -> CourseStructureData:
        """:meth:`_variant` uncached; its version is the structure's plus digests of the two sets."""
        if hidden or locked:
            digest = hashlib.sha1("\n".join(sorted(hidden)).encode()).hexdigest()[:12]
            if locked:
                digest += "l" + hashlib.sha1("\n".join(sorted(locked)).encode()).hexdigest()[:8]
            blocks = {
                k: BlockData(
                    b.key, b.block_type, tuple(c for c in b.children if c not in hidden), b.optional, k in locked
                )
                for k, b in full.blocks.items()
                if k not in hidden
            }
            version = f"{full.version}:{digest}"
        else:
            blocks, version = full.blocks, str(full.version)
        return CourseStructureData(course_key=full.course_key, root=full.root, blocks=blocks, version=version)

    def _empty(self, full: StoredStructure) -> CourseStructureData:
        """The root alone, without children: what a learner sees of a course whose root is hidden."""
        root = full.blocks[full.root]
        return self._cached_variant(
            (full.structure_id, "empty"),
            lambda: CourseStructureData(
                course_key=full.course_key,
                root=full.root,
                blocks={full.root: BlockData(root.key, root.block_type, (), root.optional)},
                version=f"{full.version}:empty",
                root_hidden=True,
            ),
        )

    def get_course_structures(
        self, course_key: CourseKey, users: Sequence[AbstractBaseUser]
    ) -> Mapping[int, CourseStructureData]:
        """
        Each user's visible tree, by user id.

        Staff (global staff, course/org staff or instructor) see the whole tree; learners lose
        staff-only and unreleased blocks and, under the per-learner rules of
        ``docs/standalone.rst``, blocks of other content groups, other split_test groups and
        unselected library children. Learners whose visible trees are equal share one object.

        A root that is itself unreleased or staff-only leaves learners the root alone (an
        empty course: earned 0, possible 0, percent 1.0), never a structure without its root.

        Raises:
            CourseNotFound: no published structure.
        """
        full = self._latest(course_key)
        now = timezone.now()
        unreleased: frozenset[str] = (
            frozenset()
            if get_setting("COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS")
            else frozenset(key for key, start in full.starts if start > now)
        )
        base_hidden = full.staff_only | unreleased
        staff_ids: set[int] = set()
        if any(not getattr(user, "is_staff", False) for user in users):
            staff_ids = self.role_holder_ids(course_key, COURSE_STAFF_ROLES)
        staff = [user for user in users if getattr(user, "is_staff", False) or user.pk in staff_ids]
        learners = [user for user in users if not (getattr(user, "is_staff", False) or user.pk in staff_ids)]
        result: dict[int, CourseStructureData] = {}
        if staff:
            staff_view = self._variant(full, frozenset())
            result.update((user.pk, staff_view) for user in staff)
        if not learners:
            return result
        if full.root in base_hidden:
            # The course itself is unreleased or staff-only: learners see an empty course (as
            # edx-platform's get_course_blocks, which then returns no root; issue 18).
            empty = self._empty(full)
            result.update((user.pk, empty) for user in learners)
        elif not full.per_learner:
            learner_view = self._variant(full, base_hidden)
            result.update((user.pk, learner_view) for user in learners)
        else:
            result.update(self._per_learner_views(full, course_key, learners, base_hidden))
        return result

    def _per_learner_views(
        self,
        full: StoredStructure,
        course_key: CourseKey,
        learners: Sequence[AbstractBaseUser],
        base_hidden: frozenset[str],
    ) -> dict[int, CourseStructureData]:
        """Learners' trees under the per-learner rules; learners with the same groups and picks share one."""
        cohort_groups = self._cohort_groups(course_key, learners) if full.uses_cohorts else {}
        modes = self._enrollment_modes(course_key, learners) if full.uses_modes else {}
        hidden_by_profile: dict[Hashable, tuple[frozenset[str], frozenset[str]]] = {}
        result = {}
        for user in learners:
            groups = learner_groups(full, user.pk, cohort_groups.get(user.pk), modes.get(user.pk))
            picks = library_picks(full, user.pk, groups, base_hidden)
            profile = (tuple(sorted(groups.items())), tuple(sorted(picks.items())))
            found = hidden_by_profile.get(profile)
            if found is None:
                hidden = hidden_blocks(full, groups, picks, base_hidden)
                found = hidden_by_profile[profile] = (hidden, locked_blocks(full, groups, hidden))
            result[user.pk] = self._variant(full, *found)
        return result

    # Per-learner content ----------------------------------------------------------------
    @staticmethod
    def _cohort_groups(course_key: CourseKey, learners: Sequence[AbstractBaseUser]) -> dict[int, CohortGroup]:
        """``{user id: (partition id, group id)}`` of the learners' cohorts: one query for the batch."""
        from .models import CohortMembership

        rows = CohortMembership.objects.filter(
            course_key=course_key, user_id__in=[user.pk for user in learners]
        ).values_list("user_id", "cohort__partition_id", "cohort__group_id")
        return {user_id: (partition, group) for user_id, partition, group in rows}

    @staticmethod
    def _enrollment_modes(course_key: CourseKey, learners: Sequence[AbstractBaseUser]) -> dict[int, str]:
        """``{user id: enrollment mode}`` of the learners' enrollments: one query for the batch."""
        from .models import Enrollment

        rows = Enrollment.objects.filter(
            course_key=course_key, user_id__in=[user.pk for user in learners]
        ).values_list("user_id", "mode")
        return dict(rows)

    def course_start_dates(self, course_key: CourseKey) -> CourseStartDatesData:
        """
        The distinct effective starts of the live structure's blocks.

        ``CourseBlock.start``, already inherited at import. The host has no personalised dates.

        Raises:
            CourseNotFound: no published structure.
        """
        full = self._latest(course_key)
        return CourseStartDatesData(
            course_key=str(course_key), starts=tuple(sorted({start for _key, start in full.starts}))
        )

    def block_display_names(self, course_key: CourseKey, block_keys: Iterable[str]) -> dict[str, str]:
        """The ``CourseBlock.display_name`` of the latest structure version (cached with it)."""
        names = self._latest(course_key).display_names
        return {str(key): names[str(key)] for key in block_keys if str(key) in names}

    def course_exists(self, course_key: CourseKey) -> bool:
        """True when the course has a published structure."""
        from .models import CourseStructure

        return CourseStructure.objects.filter(course__course_key=course_key).exists()

    def all_course_keys(self) -> list[CourseKey]:
        """Every course of the host (its ``Course`` rows)."""
        from .models import Course

        return list(_course_keys(Course.objects.values_list("course_key", flat=True)))

    # Enrollments ------------------------------------------------------------------------
    def enrolled_users(self, course_key: CourseKey) -> QuerySet[Any]:
        """The users with an active ``Enrollment`` in the course."""
        return get_user_model().objects.filter(
            standalone_enrollments__course_key=course_key, standalone_enrollments__is_active=True
        )

    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        """True when the user has an active ``Enrollment`` in the course."""
        from .models import Enrollment

        return Enrollment.objects.filter(user_id=user.pk, course_key=course_key, is_active=True).exists()

    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        """The courses of the user's active enrollments."""
        from .models import Enrollment

        active = Enrollment.objects.filter(user_id=user.pk, is_active=True)
        return list(_course_keys(active.values_list("course_key", flat=True)))

    # Roles, cohorts, mobile -------------------------------------------------------------
    def role_holder_ids(self, course_key: CourseKey, roles: Iterable[str] | None = None) -> set[int]:
        """Holders of ``CourseAccessRole`` rows for the course, or org-wide (blank course) for its org."""
        from .models import CourseAccessRole

        query = CourseAccessRole.objects.filter(
            Q(course_key=course_key) | (Q(course_key=CourseKeyField.Empty) & Q(org=course_key.org))
        )
        if roles is not None:
            query = query.filter(role__in=list(roles))
        return set(query.values_list("user_id", flat=True))

    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        """Members of the course's cohort ``cohort_id`` (``CohortMembership`` rows)."""
        from .models import CohortMembership

        return set(
            CohortMembership.objects.filter(cohort_id=cohort_id, course_key=course_key).values_list(
                "user_id", flat=True
            )
        )

    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        """The courses among ``course_keys`` whose ``Course.mobile_available`` is true."""
        from .models import Course

        return set(
            _course_keys(
                Course.objects.filter(course_key__in=list(course_keys), mobile_available=True).values_list(
                    "course_key", flat=True
                )
            )
        )


def _course_keys(values: Iterable[CourseKey | None]) -> Iterable[CourseKey]:
    """
    Values of a non-null ``CourseKeyField`` column, typed as such.

    opaque-keys' ``CourseKeyField`` has no type hints, so django-stubs reads its values as
    optional; the standalone models' course key columns are never null.
    """
    return cast("Iterable[CourseKey]", values)
