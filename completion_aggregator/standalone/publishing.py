"""Publishing course structures into the standalone host."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Optional

from django.db import transaction
from django.db.models import Max
from opaque_keys.edx.keys import CourseKey, UsageKey

from . import models
from .signals import course_published


@dataclass
class BlockSpec:
    """A block to publish; ``start``/``visible_to_staff_only`` are the effective (inherited) values."""

    key: UsageKey
    block_type: str
    children: list[UsageKey] = field(default_factory=list)
    display_name: str = ""
    start: Optional[datetime] = None
    visible_to_staff_only: bool = False
    optional_completion: bool = False


def publish_structure(
    course_key: CourseKey,
    root: UsageKey,
    blocks: Iterable[BlockSpec],
    display_name: str = "",
    mobile_available: Optional[bool] = None,
) -> models.CourseStructure:
    """
    Store a new structure version of ``course_key`` and announce it (``course_published``).

    Everything is written in one transaction; receivers (which mark enrollments stale) run
    inside it.

    Raises:
        ValueError: the root is not among the blocks, or a block key is repeated.
    """
    blocks = list(blocks)
    keys = [block.key for block in blocks]
    if len(set(keys)) != len(keys):
        raise ValueError("a block key is repeated in the structure")
    if root not in set(keys):
        raise ValueError(f"the root block {root} is not among the blocks")
    with transaction.atomic():
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
        latest = models.CourseStructure.objects.filter(course=course).aggregate(v=Max("version"))["v"] or 0
        structure = models.CourseStructure.objects.create(course=course, version=latest + 1, root_block_key=root)
        models.CourseBlock.objects.bulk_create(
            [
                models.CourseBlock(
                    structure=structure,
                    block_key=block.key,
                    block_type=block.block_type,
                    display_name=block.display_name[:255],
                    children=[str(child) for child in block.children],
                    start=block.start,
                    visible_to_staff_only=block.visible_to_staff_only,
                    optional_completion=block.optional_completion,
                )
                for block in blocks
            ],
            batch_size=500,
        )
        course_published.send(sender=models.CourseStructure, course_key=course_key)
    return structure
