"""
A published structure version as the standalone adapter keeps it in memory, with its partitions.

:class:`StoredStructure` is built once per structure version from its ``CourseBlock`` rows and
shared by every learner; the per-learner rules (:mod:`.visibility`) read it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings as django_settings

from ..data import BlockData

#: The partitions edx-platform creates at run time (never in an export's ``policy.json``):
#: the enrollment track (``ENROLLMENT_TRACK_PARTITION_ID``) and
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
#: Partition schemes whose group follows the learner's enrollment mode.
MODE_SCHEMES = frozenset({"enrollment_track", "content_type_gate"})

#: A stored ``CourseBlock`` row, as ``QuerySet.values`` gives it (``block_key`` made a string).
BlockRow = dict[str, Any]


def enrollment_mode_ids() -> dict[str, int]:
    """
    ``{mode slug: group id}`` of the enrollment-track partition.

    The host's Django setting ``COURSE_ENROLLMENT_MODES`` (``{slug: {"id": int, …}}``, the LMS
    setting's shape) when it is defined and readable, else :data:`DEFAULT_ENROLLMENT_MODE_IDS`.
    """
    configured = getattr(django_settings, "COURSE_ENROLLMENT_MODES", None)
    if isinstance(configured, Mapping):
        try:
            return {str(slug): int(mode["id"]) for slug, mode in configured.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return dict(DEFAULT_ENROLLMENT_MODE_IDS)


class Partition:
    """A course's user partition: id, scheme (``cohort``, ``random``, …), group ids, active flag."""

    __slots__ = ("id", "scheme", "groups", "active")

    def __init__(self, partition_id: int, scheme: str, groups: tuple[int, ...], active: bool):
        self.id = partition_id
        self.scheme = scheme
        self.groups = groups
        self.active = active

    @classmethod
    def parse(cls, value: Any) -> Partition | None:
        """A ``user_partitions`` entry (``{"id", "scheme", "groups": [{"id"}], "active"}``), or None if unreadable."""
        try:
            groups = tuple(int(group["id"]) for group in value.get("groups") or ())
            active = value.get("active", True) is not False
            return cls(int(value["id"]), str(value.get("scheme") or "random"), groups, active)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


class StoredStructure:
    """
    A structure version as stored, with the per-block visibility facts.

    ``blocks``: the whole tree; ``staff_only``, ``starts`` (``(block key, start)``),
    ``display_names``; and for the per-learner rules (``docs/standalone.rst``):
    ``group_access`` (``{block key: ((partition id, allowed group ids), …)}``), ``max_counts``,
    ``splits`` (``{split_test key: (partition id, {group id: child key})}``), ``partitions``
    (declared, run-time and implied by split_tests), the partitions in use and whether
    cohorts or enrollment modes decide a group.
    """

    def __init__(self, structure_id: int, course_key: str, version: int, root: str, rows: Sequence[BlockRow]):
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
        self.starts: list[tuple[str, datetime]] = [
            (row["block_key"], row["start"]) for row in rows if row["start"] is not None
        ]
        self.group_access: dict[str, tuple[tuple[int, frozenset[int]], ...]] = {}
        self.max_counts: dict[str, int] = {}
        self.splits: dict[str, tuple[int | None, dict[int, str]]] = {}
        self.partitions: dict[int, Partition] = {}
        for row in rows:
            self._read_per_learner(row)
        self._add_implied_partitions()
        self.per_learner = bool(self.group_access or self.max_counts or self.splits)
        used = {partition for access in self.group_access.values() for partition, _ in access}
        used |= {partition for partition, _ in self.splits.values() if partition is not None}
        self.used_partitions = tuple(sorted(used))
        schemes = {self.partitions[partition].scheme for partition in used if partition in self.partitions}
        self.uses_cohorts = "cohort" in schemes
        self.uses_modes = bool(schemes & MODE_SCHEMES)

    def _read_per_learner(self, row: BlockRow) -> None:
        """One row's ``group_access``, ``max_count``, the root's partitions and a split_test's mapping."""
        key = row["block_key"]
        access = row.get("group_access") or {}
        if access:
            self.group_access[key] = tuple(
                (int(partition), frozenset(int(group) for group in groups)) for partition, groups in access.items()
            )
        if row.get("max_count") is not None:
            self.max_counts[key] = row["max_count"]
        extra = row.get("extra") or {}
        if key == self.root:
            for partition in extra.get("user_partitions") or ():
                parsed = Partition.parse(partition)
                if parsed is not None:
                    self.partitions.setdefault(parsed.id, parsed)
        if row["block_type"] == "split_test":
            mapping = {int(group): child for group, child in (extra.get("group_id_to_child") or {}).items()}
            partition_id = extra.get("user_partition_id")
            self.splits[key] = (None if partition_id is None else int(partition_id), mapping)

    def _add_implied_partitions(self) -> None:
        """
        The partitions the platform creates at run time, and those of split_tests the course does not declare.

        A declared partition with the same id wins: edx-platform keeps ids below 100 for the
        run-time ones, so real exports never declare one.
        """
        self.partitions.setdefault(
            ENROLLMENT_TRACK_PARTITION_ID,
            Partition(ENROLLMENT_TRACK_PARTITION_ID, "enrollment_track", (), True),
        )
        self.partitions.setdefault(
            CONTENT_GATING_PARTITION_ID,
            Partition(
                CONTENT_GATING_PARTITION_ID, "content_type_gate", (LIMITED_ACCESS_GROUP_ID, FULL_ACCESS_GROUP_ID), True
            ),
        )
        for partition_id, mapping in self.splits.values():
            if partition_id is not None and partition_id not in self.partitions:
                # A split_test whose partition the course does not declare: its groups are the mapping's.
                self.partitions[partition_id] = Partition(partition_id, "random", tuple(sorted(mapping)), True)
