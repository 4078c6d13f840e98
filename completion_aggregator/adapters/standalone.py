"""The host adapter over ``completion_aggregator.standalone``'s models."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Iterable, Mapping, Optional, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

from ..conf import get_setting
from ..data import BlockData, CourseStructureData
from .base import COURSE_STAFF_ROLES, CourseNotFound, HostAdapter

_CACHE_SIZE = 64


class _FullStructure:
    """A structure version as stored, with the per-block visibility facts."""

    def __init__(self, structure_id: int, course_key: str, version: int, root: str, rows: list[dict]):
        self.structure_id = structure_id
        self.course_key = course_key
        self.version = version
        self.root = root
        self.blocks = {
            row["block_key"]: BlockData(
                key=row["block_key"],
                block_type=row["block_type"],
                children=tuple(row["children"] or ()),
                optional=row["optional_completion"],
            )
            for row in rows
        }
        self.staff_only = frozenset(row["block_key"] for row in rows if row["visible_to_staff_only"])
        self.starts = [(row["block_key"], row["start"]) for row in rows if row["start"] is not None]


class StandaloneAdapter(HostAdapter):
    """Answers the aggregator's questions from the standalone host's tables."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._full: OrderedDict[int, _FullStructure] = OrderedDict()
        self._variants: OrderedDict[tuple, CourseStructureData] = OrderedDict()

    def clear_cache(self) -> None:
        """Forget cached structures (tests reuse ids after rollbacks)."""
        with self._lock:
            self._full.clear()
            self._variants.clear()

    # Course structure -------------------------------------------------------------------
    def _latest(self, course_key: CourseKey) -> _FullStructure:
        from ..standalone.models import CourseBlock, CourseStructure

        head = (
            CourseStructure.objects.filter(course__course_key=course_key)
            .order_by("-version")
            .values_list("id", "version", "root_block_key")
            .first()
        )
        if head is None:
            raise CourseNotFound(f"no published structure for {course_key}")
        structure_id, version, root = head
        with self._lock:
            full = self._full.get(structure_id)
            if full is not None:
                self._full.move_to_end(structure_id)
                return full
        rows = list(
            CourseBlock.objects.filter(structure_id=structure_id).values(
                "block_key", "block_type", "children", "start", "visible_to_staff_only", "optional_completion"
            )
        )
        for row in rows:
            row["block_key"] = str(row["block_key"])
        full = _FullStructure(structure_id, str(course_key), version, str(root), rows)
        with self._lock:
            self._full[structure_id] = full
            while len(self._full) > _CACHE_SIZE:
                self._full.popitem(last=False)
        return full

    def _variant(self, full: _FullStructure, hidden: frozenset[str]) -> CourseStructureData:
        key = (full.structure_id, hidden)
        with self._lock:
            found = self._variants.get(key)
            if found is not None:
                self._variants.move_to_end(key)
                return found
        if hidden:
            digest = hashlib.sha1("\n".join(sorted(hidden)).encode()).hexdigest()[:12]
            blocks = {
                k: BlockData(b.key, b.block_type, tuple(c for c in b.children if c not in hidden), b.optional)
                for k, b in full.blocks.items()
                if k not in hidden
            }
            version = f"{full.version}:{digest}"
        else:
            blocks, version = full.blocks, str(full.version)
        data = CourseStructureData(course_key=full.course_key, root=full.root, blocks=blocks, version=version)
        with self._lock:
            self._variants[key] = data
            while len(self._variants) > _CACHE_SIZE:
                self._variants.popitem(last=False)
        return data

    def get_course_structures(
        self, course_key: CourseKey, users: Sequence[AbstractBaseUser]
    ) -> Mapping[int, CourseStructureData]:
        full = self._latest(course_key)
        now = timezone.now()
        unreleased = frozenset() if get_setting("COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS") else frozenset(
            key for key, start in full.starts if start > now
        )
        learner_view = self._variant(full, full.staff_only | unreleased)
        staff_ids: set[int] = set()
        if any(not getattr(user, "is_staff", False) for user in users):
            staff_ids = self.role_holder_ids(course_key, COURSE_STAFF_ROLES)
        staff_view = None
        result = {}
        for user in users:
            if getattr(user, "is_staff", False) or user.pk in staff_ids:
                if staff_view is None:
                    staff_view = self._variant(full, frozenset())
                result[user.pk] = staff_view
            else:
                result[user.pk] = learner_view
        return result

    def course_exists(self, course_key: CourseKey) -> bool:
        from ..standalone.models import CourseStructure

        return CourseStructure.objects.filter(course__course_key=course_key).exists()

    def all_course_keys(self) -> list[CourseKey]:
        from ..standalone.models import Course

        return list(Course.objects.values_list("course_key", flat=True))

    # Enrollments ------------------------------------------------------------------------
    def enrolled_users(self, course_key: CourseKey) -> QuerySet:
        return get_user_model().objects.filter(
            standalone_enrollments__course_key=course_key, standalone_enrollments__is_active=True
        )

    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        from ..standalone.models import Enrollment

        return Enrollment.objects.filter(user_id=user.pk, course_key=course_key, is_active=True).exists()

    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        from ..standalone.models import Enrollment

        return list(
            Enrollment.objects.filter(user_id=user.pk, is_active=True).values_list("course_key", flat=True)
        )

    # Roles, cohorts, mobile -------------------------------------------------------------
    def role_holder_ids(self, course_key: CourseKey, roles: Optional[Iterable[str]] = None) -> set[int]:
        from ..standalone.models import CourseAccessRole

        query = CourseAccessRole.objects.filter(
            Q(course_key=course_key) | (Q(course_key=CourseKeyField.Empty) & Q(org=course_key.org))
        )
        if roles is not None:
            query = query.filter(role__in=list(roles))
        return set(query.values_list("user_id", flat=True))

    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        from ..standalone.models import CohortMembership

        return set(
            CohortMembership.objects.filter(cohort_id=cohort_id, course_key=course_key).values_list(
                "user_id", flat=True
            )
        )

    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        from ..standalone.models import Course

        return set(
            Course.objects.filter(course_key__in=list(course_keys), mobile_available=True).values_list(
                "course_key", flat=True
            )
        )
