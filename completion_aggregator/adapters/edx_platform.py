"""
The edx-platform adapter: answers the aggregator's questions with edx-platform's own code.

edx-platform is imported only at call time, through
:func:`~completion_aggregator.adapters.platform.platform_import` (a missing module or name is
``ImproperlyConfigured`` with a message, never a silent fallback); the helpers it uses are
:mod:`.platform_trees` (structures to our trees), :mod:`.edx_when_dates` (personal start
dates) and :mod:`.site_origins` (where the platform shows content).

Course structures: the collected structure (``get_course_in_cache``) is loaded once per
course and structure version, not once per learner; each learner's tree is then
``get_course_blocks`` with their access transformers on that collected structure. Learners
whose visible trees are identical get one shared ``CourseStructureData`` (same ``version``:
the platform's structure version plus a digest of the visible tree), so the api compiles one
graph for all of them.

No side effects (ADR 0011): in a cohorted course the platform's ``UserPartitionTransformer``
reads each learner's content group through the cohort scheme, whose ``get_cohort`` **assigns**
a cohort to a learner without one (``openedx.core.djangoapps.course_groups.cohorts``). A non-staff learner whom the
platform has not placed yet (the course is cohorted and they have no ``CohortMembership``) is
therefore never run through the transformers: they get the *unplaced view*, the tree the
access transformers give ``AnonymousUser`` (no cohort, no enrollment track; the cohort scheme
never assigns an anonymous user), computed once per batch. Once the platform places them (their
first courseware visit), the cohort signal makes the app recompute them with their own tree.

Locked blocks (ADR 0011): the UserPartition and ContentTypeGate transformers keep a block the
learner may not open when the partition has an access-denied message, setting the xblock
field ``authorization_denial_reason``; such a block (and its subtree) is ``BlockData.locked``.
It stays in the tree, so it counts in ``possible`` as it does for the peer.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from opaque_keys.edx.keys import CourseKey

from ..bounded_cache import BoundedCache
from ..conf import get_setting
from ..data import CourseStartDatesData, CourseStructureData
from ..keys import parse_usage_key
from .base import COURSE_STAFF_ROLES, CourseNotFound, HostAdapter
from .edx_when_dates import personal_start_dates
from .platform import bearer_authentication_class, platform_import, platform_signals
from .platform_trees import empty_structure, structure_data, structure_digest
from .site_origins import origin_of, platform_site_origins

log = logging.getLogger(__name__)

_CACHE_SIZE = 64  # structure variants kept
_COLLECTED_CACHE_SIZE = 16  # collected course structures kept (they can be large)

#: Moved to their own modules; still importable from here.
__all__ = ["EdxPlatformAdapter", "bearer_authentication_class", "origin_of", "platform_signals"]


class EdxPlatformAdapter(HostAdapter):
    """Answers the aggregator's questions with edx-platform's own functions and models."""

    def __init__(self) -> None:
        # {course_key: (platform structure version, collected BlockStructureBlockData)}
        self._collected: BoundedCache[str, tuple[str, Any]] = BoundedCache(_COLLECTED_CACHE_SIZE)
        # {(course_key, base version, tree digest): CourseStructureData}
        self._variants: BoundedCache[Hashable, CourseStructureData] = BoundedCache(_CACHE_SIZE)

    def clear_cache(self) -> None:
        """Forget cached collected structures and variants (tests)."""
        self._collected.clear()
        self._variants.clear()

    def site_origins(self) -> list[str]:
        """
        The origins of the LMS, the Learning MFE, Studio and the LMS preview host.

        From the platform's settings (:func:`.site_origins.platform_site_origins`): where
        courses embed the progress bar.
        """
        return platform_site_origins()

    # Course structure -------------------------------------------------------------------
    def _base_version(self, course_key: CourseKey) -> str:
        """``get_block_structure_version`` where this edx-platform has it, else ''."""
        get_version = platform_import(
            "openedx.core.djangoapps.content.block_structure.api", "get_block_structure_version", required=False
        )
        return str(get_version(course_key) or "") if get_version is not None else ""

    def _collected_structure(self, course_key: CourseKey) -> tuple[str, Any]:
        """
        The collected structure and its version, loaded at most once per version.

        On edx-platform master the version is ``get_block_structure_version`` (the course's
        ``course_version``: it changes on publish, not on a rebuild), read again after a load
        that built the structure. Sumac, Teak, Ulmo and Verawood lack that function: there the
        structure is loaded on every call (once per batch) and versioned by its root's
        ``subtree_edited_on`` (collected by ``GradesTransformer``) or ``course_version`` field,
        else by a digest of the whole collected tree.

        Raises:
            CourseNotFound: no such course, or no block structure for it.
        """
        get_course_in_cache = platform_import(
            "openedx.core.djangoapps.content.block_structure.api", "get_course_in_cache"
        )
        not_found = _not_found_errors()
        name = str(course_key)
        version = self._base_version(course_key)
        if version:
            hit = self._collected.get(name)
            if hit is not None and hit[0] == version:
                return hit
        try:
            collected = get_course_in_cache(course_key)
        except not_found as exc:
            raise CourseNotFound(f"no block structure for {course_key}: {exc}") from exc
        if collected is None or len(collected) == 0:
            raise CourseNotFound(f"no block structure for {course_key}")
        if not version:
            # On master a structure that this very load built (none was stored) has a version now.
            version = self._base_version(course_key)
        if not version:
            root = collected.root_block_usage_key
            stamp = collected.get_xblock_field(root, "subtree_edited_on") or collected.get_xblock_field(
                root, "course_version"
            )
            version = f"e:{stamp}" if stamp else f"h:{structure_digest(collected, root)}"
            return version, collected
        self._collected.put(name, (version, collected))
        return version, collected

    def _variant(self, course_key: CourseKey, base_version: str, transformed: Any) -> CourseStructureData:
        """A learner's transformed structure, shared by every learner with the same tree (cached by digest)."""
        root = transformed.root_block_usage_key
        digest = structure_digest(transformed, root)
        key = (str(course_key), base_version, digest)
        return self._variants.get_or_compute(
            key, lambda: structure_data(str(course_key), f"{base_version}:{digest}", transformed)
        )

    def get_course_structures(
        self, course_key: CourseKey, users: Sequence[AbstractBaseUser]
    ) -> Mapping[int, CourseStructureData]:
        """
        Each user's structure as ``get_course_blocks`` shows it.

        Their access transformers on the collected structure; unreleased blocks only with
        ``COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS``. Learners the platform has not
        placed in a cohort yet (:meth:`unplaced_learner_ids`) share the anonymous user's tree.

        Raises:
            CourseNotFound: no such course or no block structure.
            ImproperlyConfigured: not running inside edx-platform.
        """
        get_course_blocks, get_course_block_access_transformers = platform_import(
            "lms.djangoapps.course_blocks.api", "get_course_blocks", "get_course_block_access_transformers"
        )
        BlockStructureTransformers = platform_import(
            "openedx.core.djangoapps.content.block_structure.transformers", "BlockStructureTransformers"
        )
        base_version, collected = self._collected_structure(course_key)
        root = collected.root_block_usage_key
        unreleased = bool(get_setting("COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS"))
        unplaced = self.unplaced_learner_ids(course_key, users)
        unplaced_view: CourseStructureData | None = None

        def structure_for(user: Any) -> CourseStructureData:
            transformed = get_course_blocks(
                user,
                root,
                transformers=BlockStructureTransformers(get_course_block_access_transformers(user)),
                collected_block_structure=collected,
                allow_start_dates_in_future=unreleased,
            )
            if transformed is None or root not in transformed:
                # Nothing visible (e.g. the course itself starts later): an empty course.
                return empty_structure(str(course_key), root, base_version)
            return self._variant(course_key, base_version, transformed)

        result: dict[int, CourseStructureData] = {}
        for user in users:
            if user.pk in unplaced:
                if unplaced_view is None:
                    unplaced_view = structure_for(platform_import("django.contrib.auth.models", "AnonymousUser")())
                result[user.pk] = unplaced_view
            else:
                result[user.pk] = structure_for(user)
        return result

    def unplaced_learner_ids(self, course_key: CourseKey, users: Sequence[AbstractBaseUser]) -> set[int]:
        """
        Ids of the ``users`` whose own course tree would make the platform assign them a cohort.

        That is, in a cohorted course (``is_course_cohorted``), the non-staff users without a
        ``CohortMembership`` (staff are never passed to the partition schemes). Read-only: at
        most three queries per call, none when the course is not cohorted.

        Raises:
            ImproperlyConfigured: not running inside edx-platform.
        """
        if not users:
            return set()
        is_course_cohorted = platform_import("openedx.core.djangoapps.course_groups.cohorts", "is_course_cohorted")
        Http404 = platform_import("django.http", "Http404")
        try:
            if not is_course_cohorted(course_key):
                return set()
        except Http404:  # no such course: nothing will be computed for it either
            return set()
        candidates = {user.pk for user in users if not getattr(user, "is_staff", False)}
        if not candidates:
            return set()
        candidates -= self.role_holder_ids(course_key, COURSE_STAFF_ROLES)
        CohortMembership = platform_import("openedx.core.djangoapps.course_groups.models", "CohortMembership")
        placed = set(
            CohortMembership.objects.filter(course_id=course_key, user_id__in=sorted(candidates)).values_list(
                "user_id", flat=True
            )
        )
        return candidates - placed

    def course_start_dates(self, course_key: CourseKey) -> CourseStartDatesData:
        """
        The distinct start dates of the course's blocks, read from the collected structure.

        ``StartDateTransformer``'s merged start (``merged_start_date``, the block's effective
        start, which its ``collect`` stores) where present, else the collected ``start`` field.
        Personalised start dates come from edx-when (``learner_starts``, see
        :meth:`personal_start_dates`).

        Raises:
            CourseNotFound: no such course or no block structure.
            ImproperlyConfigured: not running inside edx-platform.
        """
        _version, collected = self._collected_structure(course_key)
        starts = set()
        for usage_key in collected:
            start = collected.get_transformer_block_field(usage_key, "start_date", "merged_start_date")
            if not isinstance(start, datetime):
                start = collected.get_xblock_field(usage_key, "start")
            if isinstance(start, datetime):
                starts.add(start)
        return CourseStartDatesData(
            course_key=str(course_key),
            starts=tuple(sorted(starts)),
            learner_starts=self.personal_start_dates(course_key),
        )

    def personal_start_dates(self, course_key: CourseKey) -> tuple[tuple[int, datetime], ...]:
        """
        The learners' personalised ``start`` dates in edx-when, as sorted ``(user id, start)``.

        See :func:`.edx_when_dates.personal_start_dates` (its cost, and ``()`` when edx-when is
        not installed).
        """
        return personal_start_dates(course_key)

    def block_display_names(self, course_key: CourseKey, block_keys: Iterable[str]) -> dict[str, str]:
        """
        The ``display_name`` xblock field of the collected block structure.

        Requested by our transformer's ``collect``, and by the course blocks API's own transformer.

        Raises:
            CourseNotFound: no such course or no block structure.
        """
        from opaque_keys import InvalidKeyError

        _version, collected = self._collected_structure(course_key)
        names = {}
        for key in block_keys:
            try:
                usage_key = parse_usage_key(str(key))
            except InvalidKeyError:
                continue
            name = collected.get_xblock_field(usage_key, "display_name") if usage_key in collected else None
            if name:
                names[str(key)] = str(name)
        return names

    def course_exists(self, course_key: CourseKey) -> bool:
        """True when a ``CourseOverview`` exists (edx-platform creates it on publish)."""
        CourseOverview = platform_import("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return bool(CourseOverview.objects.filter(id=course_key).exists())

    def all_course_keys(self) -> list[CourseKey]:
        """Every course with a ``CourseOverview``."""
        CourseOverview = platform_import("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return list(CourseOverview.objects.order_by("id").values_list("id", flat=True))

    # Enrollments ------------------------------------------------------------------------
    def enrolled_users(self, course_key: CourseKey) -> QuerySet[Any]:
        """``CourseEnrollment.objects.users_enrolled_in(course_key)`` (active enrollments)."""
        CourseEnrollment = platform_import("common.djangoapps.student.models", "CourseEnrollment")
        users: QuerySet[Any] = CourseEnrollment.objects.users_enrolled_in(course_key)
        return users

    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        """``CourseEnrollment.is_enrolled`` (an active enrollment)."""
        CourseEnrollment = platform_import("common.djangoapps.student.models", "CourseEnrollment")
        return bool(CourseEnrollment.is_enrolled(user, course_key))

    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        """The courses of the user's active ``CourseEnrollment`` rows, in course key order."""
        CourseEnrollment = platform_import("common.djangoapps.student.models", "CourseEnrollment")
        return list(
            CourseEnrollment.objects.filter(user_id=user.pk, is_active=True)
            .order_by("course_id")
            .values_list("course_id", flat=True)
        )

    # Roles, cohorts, mobile -------------------------------------------------------------
    def role_holder_ids(self, course_key: CourseKey, roles: Iterable[str] | None = None) -> set[int]:
        """Holders of ``CourseAccessRole`` rows for the course, or org-wide (blank course) for its org."""
        CourseAccessRole = platform_import("common.djangoapps.student.models", "CourseAccessRole")
        from opaque_keys.edx.django.models import CourseKeyField

        query = CourseAccessRole.objects.filter(
            Q(course_id=course_key) | (Q(course_id=CourseKeyField.Empty) & Q(org__iexact=course_key.org))
        )
        if roles is not None:
            query = query.filter(role__in=list(roles))
        return set(query.values_list("user_id", flat=True))

    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        """Members of the cohort, read from ``CohortMembership`` (never assigns anyone)."""
        CohortMembership, CourseUserGroup = platform_import(
            "openedx.core.djangoapps.course_groups.models", "CohortMembership", "CourseUserGroup"
        )
        return set(
            CohortMembership.objects.filter(
                course_user_group_id=cohort_id,
                course_user_group__course_id=course_key,
                course_user_group__group_type=CourseUserGroup.COHORT,
                course_id=course_key,
            ).values_list("user_id", flat=True)
        )

    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        """The courses among ``course_keys`` whose ``CourseOverview.mobile_available`` is true."""
        CourseOverview = platform_import("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return set(
            CourseOverview.objects.filter(id__in=list(course_keys), mobile_available=True).values_list("id", flat=True)
        )


def _not_found_errors() -> tuple[type[Exception], ...]:
    """The platform's "no such course / structure" exceptions this release has (``ItemNotFoundError``, …)."""
    return tuple(
        exc
        for exc in (
            platform_import("xmodule.modulestore.exceptions", "ItemNotFoundError", required=False),
            platform_import(
                "openedx.core.djangoapps.content.block_structure.exceptions", "BlockStructureNotFound", required=False
            ),
        )
        if exc is not None
    )
