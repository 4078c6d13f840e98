"""1,000 learners of one course who see the same tree: one collected-structure load, one compiled graph."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from completion_aggregator import api
from completion_aggregator.api import graphs
from completion_aggregator.models import Aggregator, StaleCompletion

from .conftest import COURSE

pytestmark = pytest.mark.django_db

LEARNERS = 1000


class Counter:
    """Wraps a function of the fake platform and counts its calls."""

    def __init__(self, func):
        self.func, self.calls = func, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.func(*args, **kwargs)


def test_a_thousand_learners_share_one_collected_structure_and_one_graph(published, monkeypatch, platform_release):
    import lms.djangoapps.course_blocks.api as course_blocks_api
    import openedx.core.djangoapps.content.block_structure.api as block_structure_api
    from common.djangoapps.student.models import CourseEnrollment
    from openedx.core.djangoapps.content.block_structure.manager import BlockStructureFactory

    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"learner{i:04d}", email=f"l{i}@example.com") for i in range(LEARNERS)]
    )
    users = list(get_user_model().objects.filter(username__startswith="learner"))
    CourseEnrollment.objects.bulk_create([CourseEnrollment(user=user, course_id=COURSE) for user in users])

    loads = Counter(block_structure_api.get_course_in_cache)
    builds = Counter(BlockStructureFactory.create_from_modulestore.__func__)
    per_user = Counter(course_blocks_api.get_course_blocks)
    monkeypatch.setattr(block_structure_api, "get_course_in_cache", loads)
    monkeypatch.setattr(BlockStructureFactory, "create_from_modulestore", classmethod(builds))
    monkeypatch.setattr(course_blocks_api, "get_course_blocks", per_user)
    graphs.clear_graph_cache()

    queued = api.reaggregate_course(COURSE)  # synchronous mode: chunks of 200, eager tasks

    assert queued == LEARNERS
    assert per_user.calls == LEARNERS  # each learner's own access check …
    # … on one collected structure: loaded once for all five chunks on master (its version is
    # known without loading it), once per chunk on the releases without get_block_structure_version.
    assert loads.calls == (1 if platform_release == "master" else 5)
    assert builds.calls == 0  # (built at publish, never rebuilt)
    assert len(graphs._graphs) == 1  # one compiled graph for the whole batch
    assert Aggregator.objects.filter(aggregation_name="course", possible=2.0).count() == LEARNERS
    assert not StaleCompletion.objects.filter(resolved=False).exists()
