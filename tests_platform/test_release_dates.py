"""
Time moves content on the (fake) platform (issue 16, point 6; ADR 0012).

The fixture course's ``ch2`` starts tomorrow. The edx-platform adapter reads the block start
dates from the collected structure; once tomorrow has come, the service marks the course
stale and the stored ``possible`` grows. The clock is ``django.utils.timezone.now`` (the fake
``StartDateTransformer`` reads it, as the real one reads ``datetime.now(UTC)``), patched.
"""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from completion.models import BlockCompletion
from django.utils import timezone

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.batch import run_service
from completion_aggregator.models import Aggregator

from .conftest import COURSE, course_blocks, key, make_user

pytestmark = pytest.mark.django_db


def course_row(user):
    row = Aggregator.objects.get(user=user, course_key=COURSE, aggregation_name="course")
    return row.earned, row.possible


def enrolled(name):
    from common.djangoapps.student.models import CourseEnrollment

    user = make_user(name)
    CourseEnrollment.objects.create(user=user, course_id=COURSE, mode="audit", is_active=True)
    return user


def test_the_adapter_lists_the_collected_start_dates(published):
    from xmodule.modulestore.django import modulestore

    chapter_2_start = modulestore().get_item(key("chapter", "ch2")).start
    assert chapter_2_start in get_adapter().course_start_dates(COURSE).starts


def test_a_chapter_released_tomorrow_is_counted_after_the_next_service_run(published):
    ann = enrolled("ann")
    for block_type, block_id in (("html", "h1"), ("problem", "p1")):
        BlockCompletion.objects.submit_completion(ann, key(block_type, block_id), 1.0)
    api.aggregate_learners(COURSE, ["ann"])
    assert course_row(ann) == (2.0, 2.0)  # 100 % of what is released to her

    run_service()  # remembers the time of this check
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=2)):
        summary = run_service()
    assert summary.released_courses == 1
    assert course_row(ann) == (2.0, 4.0)  # ch2's two html blocks now count


def test_a_republished_unit_shows_in_the_learners_answer_before_any_recompute(published):
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from xmodule.modulestore.django import modulestore

    ann = enrolled("ann")
    BlockCompletion.objects.submit_completion(ann, key("html", "h1"), 1.0)
    api.aggregate_learners(COURSE, ["ann"])
    assert api.get_course_progress(ann, COURSE).course.possible == 2.0

    # h7 added to v1; the platform rebuilds the block structure (30 s after the publish),
    # our publish reaction (60 s) has not run yet: nothing is pending for ann.
    modulestore().publish_fixture(COURSE, course_blocks(extra_leaf=True), emit_signals=False)
    update_course_in_cache(COURSE)
    assert not api.has_pending_work("ann", COURSE)
    progress = api.get_course_progress(ann, COURSE)
    assert (progress.course.earned, progress.course.possible, progress.fresh) == (1.0, 3.0, True)
    assert course_row(ann) == (1.0, 2.0)
