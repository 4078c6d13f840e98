"""A generated demo course with learners and completions (deterministic for a seed)."""
from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from django.db import transaction
from opaque_keys.edx.keys import CourseKey, UsageKey

from ..keys import parse_course_key
from .models import CourseAccessRole, Enrollment
from .publishing import BlockSpec, publish_structure

DEMO_COURSE = "course-v1:OpenedX+AggDemo+2026"
LEAF_TYPES = ("html", "problem", "video", "html", "discussion")
#: The block types of the levels above the leaves.
_LEVEL_TYPES = ("chapter", "sequential", "vertical")
DEFAULT_SHAPE = (3, 3, 2, 3)
#: Limits of ``--breadth``: each level, and the total number of blocks.
MAX_BREADTH = 100
MAX_DEMO_BLOCKS = 20_000


def demo_block_count(shape: Sequence[int]) -> int:
    """Blocks of a demo course of this shape (root included)."""
    total, width = 1, 1
    for count in shape:
        width *= count
        total += width
    return total


def validate_shape(shape: Iterable[Any]) -> tuple[int, int, int, int]:
    """``shape`` as four ints, each 1…MAX_BREADTH, at most MAX_DEMO_BLOCKS blocks; else ValueError."""
    counts = tuple(shape)
    if len(counts) != 4 or not all(isinstance(count, int) and not isinstance(count, bool) for count in counts):
        raise ValueError("the breadth is four integers: chapters, sequentials, verticals, leaves per vertical")
    if any(not 1 <= count <= MAX_BREADTH for count in counts):
        raise ValueError(f"each breadth must be between 1 and {MAX_BREADTH} (got {' '.join(map(str, counts))})")
    blocks = demo_block_count(counts)
    if blocks > MAX_DEMO_BLOCKS:
        raise ValueError(f"breadth {' '.join(map(str, counts))} makes {blocks} blocks; at most {MAX_DEMO_BLOCKS}")
    chapters, sequentials, verticals, leaves = counts
    return chapters, sequentials, verticals, leaves


@dataclass
class DemoSummary:
    """What the demo loader created."""

    course_key: CourseKey
    usernames: list[str]
    completions: int
    blocks: int


def build_demo_course(course_key: CourseKey, shape: tuple[int, int, int, int]) -> tuple[UsageKey, list[BlockSpec]]:
    """The blocks of a regular demo course: chapters › sequentials › verticals › mixed leaves."""
    specs: list[BlockSpec] = []
    names = ("Section", "Subsection", "Unit")

    def node(depth: int, path: tuple[int, ...]) -> UsageKey:
        container = depth < 3
        block_type = _LEVEL_TYPES[depth] if container else LEAF_TYPES[sum(path) % len(LEAF_TYPES)]
        block_id = f"{block_type}_{'_'.join(str(i + 1) for i in path)}"
        usage = course_key.make_usage_key(block_type, block_id)
        children = [node(depth + 1, path + (i,)) for i in range(shape[depth + 1])] if container else []
        label = f"{names[depth] if container else block_type} {'.'.join(str(i + 1) for i in path)}"
        specs.append(BlockSpec(key=usage, block_type=block_type, children=children, display_name=label))
        return usage

    chapters = [node(0, (i,)) for i in range(shape[0])]
    root = course_key.make_usage_key("course", "course")
    specs.append(BlockSpec(key=root, block_type="course", children=chapters, display_name="Aggregation demo"))
    return root, specs


def load_demo(
    learner_count: int = 10, seed: int = 2026, shape: tuple[int, int, int, int] = DEFAULT_SHAPE
) -> DemoSummary:
    """
    Create (or refresh) the demo: course, staff ``staff``/``staff``, learners ``learnerN``/``learner``.

    Each learner completes a seeded random share of the course. Re-running replaces the
    learners' completions and publishes the structure again.
    """
    shape = validate_shape(shape)
    course_key = parse_course_key(DEMO_COURSE)
    root, specs = build_demo_course(course_key, shape)
    users = get_user_model().objects
    rng = random.Random(seed)
    leaves = [spec.key for spec in specs if spec.block_type in ("html", "problem", "video")]
    with transaction.atomic():
        staff, _ = users.get_or_create(
            username="staff", defaults={"email": "staff@example.com", "is_staff": True, "is_superuser": True}
        )
        staff.is_staff = staff.is_superuser = True
        staff.set_password("staff")
        staff.save()
        publish_structure(course_key, root, specs, display_name="Aggregation demo", mobile_available=True)
        CourseAccessRole.objects.get_or_create(user=staff, course_key=course_key, org=course_key.org, role="instructor")
    usernames, total = [], 0
    for number in range(1, learner_count + 1):
        name = f"learner{number}"
        user, created = users.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
        if created:
            user.set_password("learner")
            user.save()
        Enrollment.objects.update_or_create(user=user, course_key=course_key, defaults={"is_active": True})
        BlockCompletion.objects.clear_learning_context_completion(user, course_key)
        share = rng.random()
        done = [(leaf, rng.choice((1.0, 1.0, 1.0, 0.5))) for leaf in leaves if rng.random() < share]
        if done:
            BlockCompletion.objects.submit_batch_completion(user, done)
        usernames.append(name)
        total += len(done)
    return DemoSummary(course_key=course_key, usernames=usernames, completions=total, blocks=len(specs))
