"""Publishing course structures into the standalone host."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from opaque_keys.edx.keys import CourseKey, UsageKey

from . import models
from .signals import course_published


@dataclass
class BlockSpec:
    """
    A block to publish, with its effective (inherited) settings.

    ``start``, ``visible_to_staff_only`` and ``optional_completion`` are the values after
    inheritance from the block's parents, not the block's own.

    Per-learner content (``docs/standalone.rst``): ``group_access`` is the block's own
    ``{partition id: [group ids]}``; ``max_count`` how many children of a library-like block a
    learner gets (None, negative or over :data:`MAX_COUNT_LIMIT`: all); ``extra`` holds ``user_partitions`` (root) and a
    split_test's ``user_partition_id`` / ``group_id_to_child`` (group id → child key).
    """

    key: UsageKey
    block_type: str
    children: list[UsageKey] = field(default_factory=list)
    display_name: str = ""
    start: datetime | None = None
    visible_to_staff_only: bool = False
    optional_completion: bool = False
    group_access: dict[Any, Any] = field(default_factory=dict)
    max_count: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _group_access(value: Any) -> dict[str, list[int]]:
    """``{partition: [groups]}`` with string keys and int groups; empty lists dropped."""
    if not isinstance(value, dict):
        return {}
    cleaned = {}
    for partition, groups in value.items():
        try:
            ids = sorted({int(group) for group in (groups or [])})
            cleaned[str(int(partition))] = ids
        except (TypeError, ValueError):
            raise ValueError(f"group_access {value!r}: partition and group ids must be integers") from None
    return {partition: ids for partition, ids in cleaned.items() if ids}


def _extra(extra: Any) -> dict[str, Any]:
    """The stored ``extra``: a split_test's ``group_id_to_child`` with string keys and values."""
    cleaned: dict[str, Any] = dict(extra or {})
    if "group_id_to_child" in cleaned:
        cleaned["group_id_to_child"] = {
            str(group): str(child) for group, child in cleaned["group_id_to_child"].items()
        }
    return cleaned


#: The largest ``max_count`` the column holds (a signed 32-bit integer); a larger count selects
#: every child anyway, so it is stored as None (all).
MAX_COUNT_LIMIT = 2**31 - 1
#: Display names longer than their column are truncated (keys never are).
DISPLAY_NAME_LENGTH = 255


def _max_count(value: int | None) -> int | None:
    """The stored ``max_count``: None (all children) for None, negative or out-of-range counts."""
    if value is None or value < 0 or value > MAX_COUNT_LIMIT:
        return None
    return int(value)


def publish_structure(
    course_key: CourseKey,
    root: UsageKey,
    blocks: Iterable[BlockSpec],
    display_name: str = "",
    mobile_available: bool | None = None,
) -> models.CourseStructure:
    """
    Store a new structure version of ``course_key`` and announce it (``course_published``).

    Everything is written in one transaction; receivers (which mark enrollments stale) run
    inside it. Display names are truncated to their column (:data:`DISPLAY_NAME_LENGTH`); a
    ``max_count`` beyond :data:`MAX_COUNT_LIMIT` means every child (stored as None).

    Raises:
        ValueError: the root is not among the blocks, a block key is repeated, or a
            ``group_access`` holds non-integer ids.
    """
    blocks = list(blocks)
    display_name = display_name[:DISPLAY_NAME_LENGTH]
    keys = {str(block.key) for block in blocks}
    if len(keys) != len(blocks):
        raise ValueError("a block key is repeated in the structure")
    if str(root) not in keys:
        raise ValueError(f"the root block {root} is not among the blocks")
    per_learner = [
        (_group_access(block.group_access), _max_count(block.max_count), _extra(block.extra)) for block in blocks
    ]
    with transaction.atomic():
        course = _course(course_key, display_name, mobile_available)
        latest = models.CourseStructure.objects.filter(course=course).aggregate(v=Max("version"))["v"] or 0
        structure = models.CourseStructure.objects.create(course=course, version=latest + 1, root_block_key=root)
        models.CourseBlock.objects.bulk_create(
            [
                models.CourseBlock(
                    structure=structure,
                    block_key=block.key,
                    block_type=block.block_type,
                    display_name=block.display_name[:DISPLAY_NAME_LENGTH],
                    children=[str(child) for child in block.children],
                    start=block.start,
                    visible_to_staff_only=block.visible_to_staff_only,
                    optional_completion=block.optional_completion,
                    group_access=group_access,
                    max_count=max_count,
                    extra=extra,
                )
                for block, (group_access, max_count, extra) in zip(blocks, per_learner, strict=True)
            ],
            batch_size=500,
        )
        course_published.send(sender=models.CourseStructure, course_key=course_key)
    return structure


def _course(course_key: CourseKey, display_name: str, mobile_available: bool | None) -> models.Course:
    """The course's row, created or updated (a non-empty ``display_name``, a non-None ``mobile_available``)."""
    course, created = models.Course.objects.get_or_create(
        course_key=course_key, defaults={"display_name": display_name, "mobile_available": bool(mobile_available)}
    )
    changed = []
    if not created and display_name and course.display_name != display_name:
        course.display_name = display_name
        changed.append("display_name")
    if not created and mobile_available is not None and course.mobile_available != mobile_available:
        course.mobile_available = mobile_available
        changed.append("mobile_available")
    if changed:
        course.save(update_fields=changed)
    return course
