"""
The benchmark's deterministic dataset: one course, N enrolled learners, their completions.

Import this module only after ``django.setup()``. Everything is derived from ``seed``: the
same arguments give the same course, the same learners and the same completion values, so
two runs (or two databases) measure the same work. Timestamps are the only thing that
differs between runs.

Rows are written with ``bulk_create`` on purpose: it sends no ``post_save`` signal, so the
completion receivers do not queue anything; the stale rows that the write path would have
queued are then inserted directly (one whole-course row per learner, ``force=True``).
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from django.db import transaction
from opaque_keys.edx.keys import CourseKey, UsageKey

from completion_aggregator.models import StaleCompletion
from completion_aggregator.standalone.models import Enrollment
from completion_aggregator.standalone.publishing import BlockSpec, publish_structure

LEVELS = ("chapter", "sequential", "vertical", "html")
BATCH = 1000  # rows per INSERT (Django caps it lower on SQLite)
PARTIAL_VALUES = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Course:
    """The published benchmark course."""

    key: CourseKey
    leaves: tuple[UsageKey, ...]
    aggregators: int  # stored aggregator blocks: course, chapters, sequentials, verticals


@dataclass(frozen=True)
class Learner:
    """One generated learner (``index`` drives its completions)."""

    index: int
    user_id: int
    username: str


def course_key_for(breadth: int, run: str = "2026") -> CourseKey:
    return CourseKey.from_string(f"course-v1:Bench+B{breadth}+{run}")


def publish_course(breadth: int | tuple[int, ...], run: str = "2026") -> Course:
    """
    Publish a course of ``breadth`` chapters × sequentials × verticals × html leaves (``run``: its key's run).

    ``breadth`` may also be a shape: (chapters, sequentials, verticals, leaves per vertical).
    """
    shape = (breadth,) * len(LEVELS) if isinstance(breadth, int) else tuple(breadth)
    key = course_key_for(breadth, run) if isinstance(breadth, int) else CourseKey.from_string(
        f"course-v1:Bench+S{'x'.join(map(str, shape))}+{run}"
    )
    specs: list[BlockSpec] = []
    leaves: list[UsageKey] = []

    def level(depth: int, prefix: str) -> list[UsageKey]:
        made = []
        for index in range(shape[depth]):
            block_type = LEVELS[depth]
            block_id = f"{prefix}{block_type[:2]}{index}"
            children = [] if depth == len(LEVELS) - 1 else level(depth + 1, block_id + "_")
            usage = key.make_usage_key(block_type, block_id)
            specs.append(BlockSpec(key=usage, block_type=block_type, children=children, display_name=block_id))
            if depth == len(LEVELS) - 1:
                leaves.append(usage)
            made.append(usage)
        return made

    root = key.make_usage_key("course", "course")
    specs.append(BlockSpec(key=root, block_type="course", children=level(0, ""), display_name="Benchmark course"))
    publish_structure(key, root, specs, display_name=f"Benchmark course (breadth {breadth})")
    aggregators, width = 1, 1
    for count in shape[:-1]:
        width *= count
        aggregators += width
    return Course(key=key, leaves=tuple(leaves), aggregators=aggregators)


def learner_completions(seed: int, index: int, leaf_count: int, density: float) -> list[tuple[int, float]]:
    """The (leaf number, value) pairs of learner ``index``: each leaf with probability ``density``."""
    rng = random.Random(f"completions:{seed}:{index}")
    found = []
    for leaf in range(leaf_count):
        if rng.random() < density:
            value = 1.0 if rng.random() < 0.9 else rng.choice(PARTIAL_VALUES)
            found.append((leaf, value))
    return found


def create_learners(course: Course, count: int) -> list[Learner]:
    """Bulk-create ``count`` users enrolled in the course; returns them in index order."""
    user_model = get_user_model()
    names = [f"bench{index:06d}" for index in range(count)]
    with transaction.atomic():
        user_model.objects.bulk_create(
            [user_model(username=name, email=f"{name}@example.com", password="!") for name in names],
            batch_size=BATCH,
        )
        ids = dict(user_model.objects.filter(username__startswith="bench").values_list("username", "id"))
        Enrollment.objects.bulk_create(
            [Enrollment(user_id=ids[name], course_key=course.key) for name in names], batch_size=BATCH
        )
    return [Learner(index, ids[name], name) for index, name in enumerate(names)]


def enroll(course: Course, learners: Sequence[Learner]) -> None:
    """Enroll existing learners in another course (a twin of the main one)."""
    with transaction.atomic():
        Enrollment.objects.bulk_create(
            [Enrollment(user_id=learner.user_id, course_key=course.key) for learner in learners], batch_size=BATCH
        )


def create_completions(course: Course, learners: Sequence[Learner], seed: int, density: float) -> int:
    """Bulk-create every learner's completions (no signals); returns the row count."""
    total = 0
    for chunk in chunks(learners, 200):
        rows = []
        for learner in chunk:
            for leaf, value in learner_completions(seed, learner.index, len(course.leaves), density):
                rows.append(
                    BlockCompletion(
                        user_id=learner.user_id,
                        context_key=course.key,
                        block_key=course.leaves[leaf],
                        block_type=LEVELS[-1],
                        completion=value,
                    )
                )
        with transaction.atomic():
            BlockCompletion.objects.bulk_create(rows, batch_size=BATCH)
        total += len(rows)
    return total


def queue_everyone(course: Course, learners: Sequence[Learner]) -> int:
    """The stale rows the write path would have queued: one whole-course row per learner.

    Returns the number of rows queued.
    """
    with transaction.atomic():
        StaleCompletion.objects.bulk_create(
            [
                StaleCompletion(username=learner.username, course_key=course.key, block_key=None, force=True)
                for learner in learners
            ],
            batch_size=BATCH,
        )
    return len(learners)


def add_one_completion(course: Course, learners: Sequence[Learner], seed: int, salt: str) -> int:
    """
    Give each learner one new completion (a leaf they had not started, else a changed value)
    and queue it as the write path would: a stale row naming that block. Returns the count.
    """
    rng = random.Random(f"{salt}:{seed}")
    new_rows: list[BlockCompletion] = []
    stale: list[StaleCompletion] = []
    with transaction.atomic():
        for learner in learners:
            existing = dict(
                BlockCompletion.objects.filter(user_id=learner.user_id, context_key=course.key).values_list(
                    "block_key", "completion"
                )
            )
            todo = [leaf for leaf in range(len(course.leaves)) if course.leaves[leaf] not in existing]
            if todo:
                leaf = rng.choice(todo)
                new_rows.append(
                    BlockCompletion(
                        user_id=learner.user_id,
                        context_key=course.key,
                        block_key=course.leaves[leaf],
                        block_type=LEVELS[-1],
                        completion=1.0,
                    )
                )
            else:  # everything started already: change one value instead
                leaf = rng.randrange(len(course.leaves))
                value = existing[course.leaves[leaf]]
                BlockCompletion.objects.filter(
                    user_id=learner.user_id, context_key=course.key, block_key=course.leaves[leaf]
                ).update(completion=0.5 if value != 0.5 else 1.0)
            stale.append(
                StaleCompletion(username=learner.username, course_key=course.key, block_key=course.leaves[leaf])
            )
        BlockCompletion.objects.bulk_create(new_rows, batch_size=BATCH)
        StaleCompletion.objects.bulk_create(stale, batch_size=BATCH)
    return len(stale)


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
