"""The Open edX demo course under the per-learner rules of docs/standalone.rst."""
from __future__ import annotations

import pytest
from completion.models import BlockCompletion
from opaque_keys.edx.keys import CourseKey

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.completion_modes import mode_lookup
from completion_aggregator.data import CompletionMode
from completion_aggregator.standalone.models import Cohort, CohortMembership
from completion_aggregator.standalone.olx import import_course, parse_course
from tests.helpers import learner
from tests.olx.conftest import DEMO_DIR, DEMO_KEY, needs_demo

pytestmark = [pytest.mark.django_db, needs_demo]

PARTITION = 18587404  # "Content Groups" (scheme cohort) of the demo course
GROUP_A, GROUP_B = 1819362822, 205150518


@pytest.fixture
def demo():
    parsed = parse_course(DEMO_DIR)
    import_course(DEMO_DIR)
    return parsed


def completable_leaves(parsed):
    mode_of = mode_lookup()
    return [block for block in parsed.blocks if mode_of(block.block_type) is CompletionMode.COMPLETABLE]


def in_cohort(user, name, group):
    cohort, _ = Cohort.objects.get_or_create(
        course_key=CourseKey.from_string(DEMO_KEY), name=name, defaults={"partition_id": PARTITION, "group_id": group}
    )
    CohortMembership.objects.create(cohort=cohort, user=user, course_key=cohort.course_key)


def expected_visible(parsed, structure, group):
    """The rules, applied by hand: no other group's html, exactly 2 of the library's 6 problems."""
    library = next(block for block in parsed.blocks if block.block_type == "library_content")
    picked = {key for key in map(str, library.children) if key in structure.blocks}
    assert len(picked) == 2 and str(library.key) in structure.blocks
    leaves = set()
    for block in completable_leaves(parsed):
        access = block.extra.get("group_access")
        if access and group not in access[str(PARTITION)]:
            continue
        if block.key in library.children and str(block.key) not in picked:
            continue
        leaves.add(str(block.key))
    return leaves


def test_possible_per_learner_and_completing_everything_visible(demo):
    course_key = CourseKey.from_string(DEMO_KEY)
    plain, alpha, beta, one = (learner(name, course_key) for name in ("plain", "alpha", "beta", "one"))
    boss = learner("boss", course_key, is_staff=True)
    in_cohort(alpha, "Alpha", GROUP_A)
    in_cohort(beta, "Beta", GROUP_B)
    found = get_adapter().get_course_structures(course_key, [plain, alpha, beta, one, boss])
    visible = {
        user.username: expected_visible(demo, found[user.pk], group)
        for user, group in ((plain, None), (alpha, GROUP_A), (beta, GROUP_B), (one, None))
    }
    assert {name: len(leaves) for name, leaves in visible.items()} == {"plain": 311, "alpha": 312, "beta": 312, "one": 311}
    everything = {str(block.key) for block in completable_leaves(demo)}
    assert len(everything) == 317
    rows = []
    for user in (plain, alpha, beta, boss):
        # Complete every completable leaf (hidden ones too: they must not count).
        rows += [
            BlockCompletion(user=user, context_key=course_key, block_key=key, block_type=key.split("@")[1].split("+")[0],
                            completion=1.0)
            for key in everything
        ]
    html = next(key for key in sorted(visible["one"]) if "type@html" in key)
    rows.append(BlockCompletion(user=one, context_key=course_key, block_key=html, block_type="html", completion=1.0))
    BlockCompletion.objects.bulk_create(rows)
    api.aggregate_learners(course_key, ["plain", "alpha", "beta", "one", "boss"], force=True)
    for user, possible in ((plain, 311), (alpha, 312), (beta, 312), (boss, 317)):
        progress = api.get_course_progress(user, course_key)
        assert not progress.fresh
        assert (progress.course.earned, progress.course.possible, progress.course.percent) == (possible, possible, 1.0)
    progress = api.get_course_progress(one, course_key)
    assert progress.course.possible == len(visible["one"]) == 311
    assert progress.course.percent == pytest.approx(1 / 311)


def test_completing_only_the_visible_leaves_gives_one(demo):
    course_key = CourseKey.from_string(DEMO_KEY)
    alpha = learner("alpha", course_key)
    in_cohort(alpha, "Alpha", GROUP_A)
    structure = get_adapter().get_course_structure(course_key, alpha)
    leaves = expected_visible(demo, structure, GROUP_A)
    BlockCompletion.objects.bulk_create(
        BlockCompletion(user=alpha, context_key=course_key, block_key=key, block_type=key.split("@")[1].split("+")[0],
                        completion=1.0)
        for key in leaves
    )
    api.aggregate_learners(course_key, ["alpha"], force=True)
    assert api.get_course_progress(alpha, course_key).course.percent == 1.0
