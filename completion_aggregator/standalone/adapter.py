"""The host adapter over the standalone host's models (``completion_aggregator.standalone``)."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

from ..adapters.base import COURSE_STAFF_ROLES, CourseNotFound, HostAdapter
from ..conf import get_setting
from ..data import BlockData, CourseStartDatesData, CourseStructureData

_CACHE_SIZE = 64
_VARIANT_CACHE_SIZE = 512  # library selections multiply the variants of a course

#: The partitions edx-platform creates at run time (never in an export's ``policy.json``;
#: ``edx-platform.md`` §11): the enrollment track (``ENROLLMENT_TRACK_PARTITION_ID``) and
#: content type gating (``CONTENT_GATING_PARTITION_ID``).
ENROLLMENT_TRACK_PARTITION_ID = 50
CONTENT_GATING_PARTITION_ID = 51
#: The enrollment-track group ids: the ``id`` of each mode in the LMS setting
#: ``COURSE_ENROLLMENT_MODES`` (read from the Django settings when the host defines it).
DEFAULT_ENROLLMENT_MODE_IDS = {
    "audit": 1,
    "verified": 2,
    "professional": 3,
    "no-id-professional": 4,
    "credit": 5,
    "honor": 6,
    "masters": 7,
}
#: Content type gating's groups (edx-platform's ``CONTENT_TYPE_GATE_GROUP_IDS``) and the modes
#: it limits (the modes the platform upsells to verified).
LIMITED_ACCESS_GROUP_ID = 1
FULL_ACCESS_GROUP_ID = 2
LIMITED_ACCESS_MODES = frozenset({"audit", "honor"})


def enrollment_mode_ids() -> dict[str, int]:
    """
    ``{mode slug: group id}`` of the enrollment-track partition: the host's Django setting
    ``COURSE_ENROLLMENT_MODES`` (``{slug: {"id": int, …}}``, the LMS setting's shape) when it is
    defined and readable, else :data:`DEFAULT_ENROLLMENT_MODE_IDS`.
    """
    configured = getattr(django_settings, "COURSE_ENROLLMENT_MODES", None)
    if isinstance(configured, Mapping):
        try:
            return {str(slug): int(mode["id"]) for slug, mode in configured.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return dict(DEFAULT_ENROLLMENT_MODE_IDS)


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
        self.display_names = {row["block_key"]: row["display_name"] for row in rows if row.get("display_name")}
        self.starts = [(row["block_key"], row["start"]) for row in rows if row["start"] is not None]
        # Per-learner content (docs/standalone.rst).
        self.group_access: dict[str, tuple[tuple[int, frozenset[int]], ...]] = {}
        self.max_counts: dict[str, int] = {}
        self.splits: dict[str, tuple[int | None, dict[int, str]]] = {}
        self.partitions: dict[int, _Partition] = {}
        for row in rows:
            key = row["block_key"]
            access = row.get("group_access") or {}
            if access:
                self.group_access[key] = tuple(
                    (int(partition), frozenset(int(group) for group in groups)) for partition, groups in access.items()
                )
            if row.get("max_count") is not None:
                self.max_counts[key] = row["max_count"]
            extra = row.get("extra") or {}
            if key == root:
                for partition in extra.get("user_partitions") or ():
                    parsed = _Partition.parse(partition)
                    if parsed is not None:
                        self.partitions.setdefault(parsed.id, parsed)
            if row["block_type"] == "split_test":
                mapping = {int(group): child for group, child in (extra.get("group_id_to_child") or {}).items()}
                partition_id = extra.get("user_partition_id")
                self.splits[key] = (None if partition_id is None else int(partition_id), mapping)
        # The partitions the platform creates at run time (a declared partition with the same
        # id wins: edx-platform keeps ids below 100 for these, so real exports never declare one).
        self.partitions.setdefault(
            ENROLLMENT_TRACK_PARTITION_ID,
            _Partition(ENROLLMENT_TRACK_PARTITION_ID, "enrollment_track", (), True),
        )
        self.partitions.setdefault(
            CONTENT_GATING_PARTITION_ID,
            _Partition(
                CONTENT_GATING_PARTITION_ID, "content_type_gate", (LIMITED_ACCESS_GROUP_ID, FULL_ACCESS_GROUP_ID), True
            ),
        )
        for partition_id, mapping in self.splits.values():
            if partition_id is not None and partition_id not in self.partitions:
                # A split_test whose partition the course does not declare: its groups are the mapping's.
                self.partitions[partition_id] = _Partition(partition_id, "random", tuple(sorted(mapping)), True)
        self.per_learner = bool(self.group_access or self.max_counts or self.splits)
        used = {partition for access in self.group_access.values() for partition, _ in access}
        used |= {partition for partition, _ in self.splits.values() if partition is not None}
        self.used_partitions = tuple(sorted(used))
        self.uses_cohorts = any(
            self.partitions[partition].scheme == "cohort" for partition in used if partition in self.partitions
        )
        self.uses_modes = any(
            self.partitions[partition].scheme in _MODE_SCHEMES for partition in used if partition in self.partitions
        )


#: Partition schemes whose group follows the learner's enrollment mode.
_MODE_SCHEMES = frozenset({"enrollment_track", "content_type_gate"})


class _Partition:
    """A course's user partition: id, scheme (``cohort``, ``random``, …), group ids, active flag."""

    __slots__ = ("id", "scheme", "groups", "active")

    def __init__(self, partition_id: int, scheme: str, groups: tuple[int, ...], active: bool):
        self.id = partition_id
        self.scheme = scheme
        self.groups = groups
        self.active = active

    @classmethod
    def parse(cls, value) -> _Partition | None:
        try:
            groups = tuple(int(group["id"]) for group in value.get("groups") or ())
            return cls(int(value["id"]), str(value.get("scheme") or "random"), groups, value.get("active", True) is not False)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def _rank(*parts) -> bytes:
    """A stable pseudo-random rank of ``parts`` (no state is stored: recomputed on every read)."""
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()


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
        with self._lock:
            full = self._full.get(structure_id)
            if full is not None:
                self._full.move_to_end(structure_id)
                return full
        rows = list(
            CourseBlock.objects.filter(structure_id=structure_id).values(
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
        )
        for row in rows:
            row["block_key"] = str(row["block_key"])
        full = _FullStructure(structure_id, str(course_key), version, str(root), rows)
        with self._lock:
            self._full[structure_id] = full
            while len(self._full) > _CACHE_SIZE:
                self._full.popitem(last=False)
        return full

    def _cached_variant(self, key: tuple, build) -> CourseStructureData:
        """The variant cached under ``key``, built by ``build()`` on a miss."""
        with self._lock:
            found = self._variants.get(key)
            if found is not None:
                self._variants.move_to_end(key)
                return found
        data = build()
        with self._lock:
            self._variants[key] = data
            while len(self._variants) > _VARIANT_CACHE_SIZE:
                self._variants.popitem(last=False)
        return data

    def _variant(
        self, full: _FullStructure, hidden: frozenset[str], locked: frozenset[str] = frozenset()
    ) -> CourseStructureData:
        return self._cached_variant(
            (full.structure_id, hidden, locked), lambda: self._build_variant(full, hidden, locked)
        )

    @staticmethod
    def _build_variant(full: _FullStructure, hidden: frozenset[str], locked: frozenset[str]) -> CourseStructureData:
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

    def _empty(self, full: _FullStructure) -> CourseStructureData:
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
        Staff (global staff, course/org staff or instructor) see the whole tree; learners lose
        staff-only and unreleased blocks and, under the per-learner rules of
        ``docs/standalone.rst``, blocks of other content groups, other split_test groups and
        unselected library children. Learners whose visible trees are equal share one object.

        A root that is itself unreleased or staff-only leaves learners the root alone (an
        empty course: earned 0, possible 0, percent 1.0), never a structure without its root.
        """
        full = self._latest(course_key)
        now = timezone.now()
        unreleased = frozenset() if get_setting("COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS") else frozenset(
            key for key, start in full.starts if start > now
        )
        base_hidden = full.staff_only | unreleased
        staff_ids: set[int] = set()
        if any(not getattr(user, "is_staff", False) for user in users):
            staff_ids = self.role_holder_ids(course_key, COURSE_STAFF_ROLES)
        staff = [user for user in users if getattr(user, "is_staff", False) or user.pk in staff_ids]
        learners = [user for user in users if not (getattr(user, "is_staff", False) or user.pk in staff_ids)]
        result = {}
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
            return result
        if not full.per_learner:
            learner_view = self._variant(full, base_hidden)
            result.update((user.pk, learner_view) for user in learners)
            return result
        cohort_groups = self._cohort_groups(course_key, learners) if full.uses_cohorts else {}
        modes = self._enrollment_modes(course_key, learners) if full.uses_modes else {}
        hidden_by_profile: dict[tuple, tuple[frozenset[str], frozenset[str]]] = {}
        for user in learners:
            groups = self._groups(full, user.pk, cohort_groups.get(user.pk), modes.get(user.pk))
            picks = self._library_picks(full, user.pk, groups, base_hidden)
            profile = (tuple(sorted(groups.items())), tuple(sorted(picks.items())))
            found = hidden_by_profile.get(profile)
            if found is None:
                hidden = self._hidden(full, groups, picks, base_hidden)
                found = hidden_by_profile[profile] = (hidden, self._locked(full, groups, hidden))
            result[user.pk] = self._variant(full, *found)
        return result

    @staticmethod
    def _locked(full: _FullStructure, groups: Mapping[int, int | None], hidden: frozenset[str]) -> frozenset[str]:
        """
        The visible blocks content type gating locks for this learner (ADR 0011): a block whose
        ``group_access`` on a ``content_type_gate`` partition excludes the learner's group, and
        its subtree. They stay in the tree and count in ``possible``.
        """
        stack = [
            key
            for key, access in full.group_access.items()
            if key not in hidden
            and any(
                (partition := full.partitions.get(partition_id)) is not None
                and partition.active
                and partition.scheme == "content_type_gate"
                and groups.get(partition_id) not in allowed
                for partition_id, allowed in access
            )
        ]
        locked: set[str] = set()
        while stack:
            key = stack.pop()
            if key in locked or key in hidden or key not in full.blocks:
                continue
            locked.add(key)
            stack.extend(full.blocks[key].children)
        return frozenset(locked)

    # Per-learner content ----------------------------------------------------------------
    @staticmethod
    def _cohort_groups(course_key: CourseKey, learners: Sequence[AbstractBaseUser]) -> dict[int, tuple]:
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

    @staticmethod
    def _groups(
        full: _FullStructure, user_id: int, cohort_group: tuple | None, mode: str | None = None
    ) -> dict[int, int | None]:
        """
        The learner's group in each partition the structure uses (None: no group).

        The enrollment-track partition's group is the id of the learner's enrollment mode
        (:func:`enrollment_mode_ids`; an unknown mode has none); content type gating's is
        limited access for the modes in :data:`LIMITED_ACCESS_MODES`, full access otherwise.
        """
        groups: dict[int, int | None] = {}
        for partition_id in full.used_partitions:
            partition = full.partitions.get(partition_id)
            group = None
            if partition is not None and partition.scheme == "enrollment_track":
                group = enrollment_mode_ids().get(mode) if mode is not None else None
            elif partition is not None and partition.scheme == "content_type_gate":
                if mode is not None:
                    group = LIMITED_ACCESS_GROUP_ID if mode in LIMITED_ACCESS_MODES else FULL_ACCESS_GROUP_ID
            elif partition is None or not partition.groups:
                group = None
            elif partition.scheme == "cohort":
                if cohort_group is not None and cohort_group[0] == partition_id:
                    group = cohort_group[1]
            elif partition.scheme == "random":
                index = int.from_bytes(_rank(user_id, full.course_key, "partition", partition_id)[:8], "big")
                group = partition.groups[index % len(partition.groups)]
            groups[partition_id] = group
        return groups

    @staticmethod
    def _allowed(full: _FullStructure, key: str, groups: Mapping[int, int | None]) -> bool:
        """The block's own ``group_access`` lets this learner in (inactive partitions are ignored)."""
        for partition_id, allowed in full.group_access.get(key, ()):
            partition = full.partitions.get(partition_id)
            if partition is None:
                return False  # a restriction to an unknown partition: nobody (as edx-platform)
            if not partition.active or partition.scheme == "content_type_gate":
                # Content type gating never removes a block: the platform keeps it, locked, with
                # an access-denied message (edx-platform.md §11), and a locked block counts.
                continue
            if groups.get(partition_id) not in allowed:
                return False
        return True

    def _library_picks(
        self, full: _FullStructure, user_id: int, groups: Mapping[int, int | None], base_hidden: frozenset[str]
    ) -> dict[str, tuple[str, ...]]:
        """For each library-like block, the ``max_count`` children this learner gets (stable hash)."""
        picks = {}
        for key, max_count in full.max_counts.items():
            candidates = [
                child
                for child in full.blocks[key].children
                if child not in base_hidden and self._allowed(full, child, groups)
            ]
            if max_count < len(candidates):
                ranked = sorted(candidates, key=lambda child: _rank(user_id, key, child))
                candidates = sorted(ranked[:max_count])
            picks[key] = tuple(candidates)
        return picks

    def _hidden(
        self,
        full: _FullStructure,
        groups: Mapping[int, int | None],
        picks: Mapping[str, tuple[str, ...]],
        base_hidden: frozenset[str],
    ) -> frozenset[str]:
        """Every block the learner cannot reach from the root (canonical: equal trees, equal sets)."""
        visible = {full.root}
        stack = [full.root]
        while stack:
            key = stack.pop()
            children = full.blocks[key].children
            if key in full.splits:
                partition_id, mapping = full.splits[key]
                chosen = mapping.get(groups.get(partition_id)) if partition_id is not None else None
                children = (chosen,) if chosen is not None and chosen in children else ()
            elif key in picks:
                children = picks[key]
            for child in children:
                if (
                    child not in visible
                    and child in full.blocks
                    and child not in base_hidden
                    and self._allowed(full, child, groups)
                ):
                    visible.add(child)
                    stack.append(child)
        return frozenset(full.blocks) - visible

    def course_start_dates(self, course_key: CourseKey) -> CourseStartDatesData:
        """
        The distinct effective starts of the live structure's blocks (``CourseBlock.start``,
        already inherited at import). The host has no personalised dates.

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
        from .models import CourseStructure

        return CourseStructure.objects.filter(course__course_key=course_key).exists()

    def all_course_keys(self) -> list[CourseKey]:
        from .models import Course

        return list(Course.objects.values_list("course_key", flat=True))

    # Enrollments ------------------------------------------------------------------------
    def enrolled_users(self, course_key: CourseKey) -> QuerySet:
        return get_user_model().objects.filter(
            standalone_enrollments__course_key=course_key, standalone_enrollments__is_active=True
        )

    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        from .models import Enrollment

        return Enrollment.objects.filter(user_id=user.pk, course_key=course_key, is_active=True).exists()

    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        from .models import Enrollment

        return list(
            Enrollment.objects.filter(user_id=user.pk, is_active=True).values_list("course_key", flat=True)
        )

    # Roles, cohorts, mobile -------------------------------------------------------------
    def role_holder_ids(self, course_key: CourseKey, roles: Iterable[str] | None = None) -> set[int]:
        from .models import CourseAccessRole

        query = CourseAccessRole.objects.filter(
            Q(course_key=course_key) | (Q(course_key=CourseKeyField.Empty) & Q(org=course_key.org))
        )
        if roles is not None:
            query = query.filter(role__in=list(roles))
        return set(query.values_list("user_id", flat=True))

    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        from .models import CohortMembership

        return set(
            CohortMembership.objects.filter(cohort_id=cohort_id, course_key=course_key).values_list(
                "user_id", flat=True
            )
        )

    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        from .models import Course

        return set(
            Course.objects.filter(course_key__in=list(course_keys), mobile_available=True).values_list(
                "course_key", flat=True
            )
        )
