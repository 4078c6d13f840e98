"""
Fixtures for the edx-platform integration tests.

Run with ``pytest --ds=devsite.settings_platform tests_platform`` (``make test-platform``):
the settings put ``fake_platform`` on ``sys.path`` and select the edx-platform adapter.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

if not getattr(settings, "FAKE_PLATFORM_BLOCK_STRUCTURE_TRANSFORMERS", None):  # pragma: no cover
    raise pytest.UsageError("tests_platform needs --ds=devsite.settings_platform")

from opaque_keys.edx.keys import CourseKey  # noqa: E402

COURSE = CourseKey.from_string("course-v1:Fake+Plat+2026")
PARTITION = 1001  # a cohort-linked content-group partition (50 and 51 are the platform's dynamic ones)
#: The course's own partitions, as Studio stores them on the course (``user_partitions``).
CONTENT_GROUPS = {"id": PARTITION, "name": "Content groups", "scheme": "cohort", "groups": [1, 2]}


def course_blocks(extra_leaf: bool = False) -> list[dict]:
    """
    The fixture course::

        course
          ch1 / s1 / v1: h1 (html), p1 (problem), d1 (discussion: excluded)
                   / v2: h2 (content group 1 only), h3 (content group 2 only)
          ch2 (starts tomorrow) / s2 / v3: h4, h5
          ch3 (staff only) / s3 / v4: h6

    A learner in no group has 2 possible, one in a group 3, with unreleased content 4 (+2);
    staff see 7. ``extra_leaf`` adds h7 to v1 (a republished course).
    """
    tomorrow = timezone.now() + timedelta(days=1)
    v1_children = ["h1", "p1", "d1"] + (["h7"] if extra_leaf else [])
    blocks = [
        {"type": "course", "id": "course", "children": ["ch1", "ch2", "ch3"], "user_partitions": [CONTENT_GROUPS]},
        {"type": "chapter", "id": "ch1", "children": ["s1"]},
        {"type": "sequential", "id": "s1", "children": ["v1", "v2"]},
        {"type": "vertical", "id": "v1", "children": v1_children},
        {"type": "html", "id": "h1"},
        {"type": "problem", "id": "p1"},
        {"type": "discussion", "id": "d1"},
        {"type": "vertical", "id": "v2", "children": ["h2", "h3"]},
        {"type": "html", "id": "h2", "group_access": {PARTITION: [1]}},
        {"type": "html", "id": "h3", "group_access": {PARTITION: [2]}},
        {"type": "chapter", "id": "ch2", "children": ["s2"], "start": tomorrow},
        {"type": "sequential", "id": "s2", "children": ["v3"]},
        {"type": "vertical", "id": "v3", "children": ["h4", "h5"]},
        {"type": "html", "id": "h4"},
        {"type": "html", "id": "h5"},
        {"type": "chapter", "id": "ch3", "children": ["s3"], "visible_to_staff_only": True},
        {"type": "sequential", "id": "s3", "children": ["v4"]},
        {"type": "vertical", "id": "v4", "children": ["h6"]},
        {"type": "html", "id": "h6"},
    ]
    if extra_leaf:
        blocks.append({"type": "html", "id": "h7"})
    return blocks


def key(block_type: str, block_id: str, course_key: CourseKey = COURSE):
    return course_key.make_usage_key(block_type, block_id)


@pytest.fixture(autouse=True, params=["master", "sumac"])
def platform_release(request, settings):
    """
    Every test runs against edx-platform master and against the named releases (Sumac, Teak,
    Ulmo and Verawood behave alike here: no ``get_block_structure_version``, and Studio's
    structure rebuilds read drafts). The fake reads ``FAKE_PLATFORM_RELEASE``.
    """
    settings.FAKE_PLATFORM_RELEASE = request.param
    return request.param


@pytest.fixture(autouse=True)
def _fresh_platform():
    """Empty fake modulestore/block-structure store, caches and compiled graphs around each test."""
    import edx_when.api
    from django.core.cache import cache
    from openedx.core.djangoapps.content.block_structure.manager import STORE
    from xmodule.modulestore.django import modulestore

    from completion_aggregator.adapters import get_adapter
    from completion_aggregator.api import clear_graph_cache

    def clear():
        modulestore().clear()
        STORE.clear()
        edx_when.api.clear()
        cache.clear()
        clear_graph_cache()
        get_adapter().clear_cache()

    clear()
    yield
    clear()


@pytest.fixture
def published(db):
    """The fixture course, published without signals (its block structure and overview built)."""
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
    from xmodule.modulestore.django import modulestore

    modulestore().publish_fixture(COURSE, course_blocks(), emit_signals=False, display_name="Fake", mobile_available=True)
    CourseOverview.load_from_module_store(COURSE)
    update_course_in_cache(COURSE)
    return COURSE


def make_user(username: str, **kwargs):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create(username=username, email=f"{username}@example.com", **kwargs)


def cohort_in_group(name: str, group_id: int, course_key: CourseKey = COURSE):
    """A cohort linked to content group ``group_id`` of the partition."""
    from openedx.core.djangoapps.course_groups.cohorts import add_cohort
    from openedx.core.djangoapps.course_groups.models import CourseUserGroupPartitionGroup

    cohort = add_cohort(course_key, name)
    CourseUserGroupPartitionGroup.objects.create(course_user_group=cohort, partition_id=PARTITION, group_id=group_id)
    return cohort
