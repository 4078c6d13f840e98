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


def test_a_personal_start_date_that_passed_queues_only_its_learner(published):
    """
    edx-when personalised start date (``set_date_for_block(..., user=...)``) on ``ch1``: the
    course started long ago, ann's own ``ch1`` start lies 6 hours ahead. Once the clock has
    passed it (and not ch2's course-wide start, tomorrow), the service queues ann alone, as a
    forced whole-course recompute, and rewrites her stored rows.

    What the recompute finds is what the real course blocks API shows: ``StartDateTransformer``
    filters on the collected, course-wide start before edx-when's ``DateOverrideTransformer``
    (a non-filter, last in the list) applies the personal date, so ann's tree, and her
    ``possible``, do not depend on her personal start.
    """
    import edx_when.api

    from completion_aggregator.api.releases import mark_released_stale
    from completion_aggregator.models import StaleCompletion

    ann, bob = enrolled("ann"), enrolled("bob")
    now = timezone.now()
    long_ago = now - timedelta(days=400)
    edx_when.api.set_dates_for_course(
        COURSE, [(key("course", "course"), {"start": long_ago}), (key("chapter", "ch1"), {"start": long_ago})]
    )
    edx_when.api.set_date_for_block(COURSE, key("chapter", "ch1"), "start", now + timedelta(hours=6), user=ann)
    for learner in (ann, bob):
        BlockCompletion.objects.submit_completion(learner, key("html", "h1"), 1.0)
    api.aggregate_learners(COURSE, ["ann", "bob"])
    Aggregator.objects.filter(user=ann, course_key=COURSE, aggregation_name="course").update(possible=99.0)

    run_service()  # remembers the time of this check; nothing has passed yet
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=12)):
        checked = mark_released_stale()
        assert (checked.courses, checked.learner_courses, checked.enrollments) == ([], [str(COURSE)], 1)
        assert list(StaleCompletion.objects.filter(resolved=False).values_list("username", "block_key", "force")) == [("ann", None, True)]
        run_service()
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    assert course_row(ann) == (1.0, 2.0)  # recomputed: what the platform's tree holds for her
    assert course_row(bob) == (1.0, 2.0)


def test_the_adapter_reports_personal_starts_per_user_id(published, django_assert_num_queries):
    """
    Per block with a course-wide start, edx-when's ``get_overrides_for_block``; on a block that
    also has a due date (the override's field is not given there), the learner's own dates.
    """
    import edx_when.api

    adapter = get_adapter()
    ann, bob, cid = make_user("ann"), make_user("bob"), make_user("cid")
    now = timezone.now()
    start, due = now - timedelta(days=30), now + timedelta(days=30)
    edx_when.api.set_dates_for_course(
        COURSE,
        [
            (key("chapter", "ch1"), {"start": start}),
            (key("sequential", "s1"), {"start": start, "due": due}),
            (key("problem", "p1"), {"due": due}),
        ],
    )
    with django_assert_num_queries(0):  # no overrides: no query of ours
        assert adapter.personal_start_dates(COURSE) == ()
    edx_when.api.set_date_for_block(COURSE, key("chapter", "ch1"), "start", now + timedelta(hours=1), user=ann)
    edx_when.api.set_date_for_block(COURSE, key("sequential", "s1"), "start", now + timedelta(hours=2), user=bob)
    edx_when.api.set_date_for_block(COURSE, key("sequential", "s1"), "due", due + timedelta(days=1), user=bob)
    edx_when.api.set_date_for_block(COURSE, key("sequential", "s1"), "due", due + timedelta(days=2), user=cid)
    edx_when.api.set_date_for_block(COURSE, key("problem", "p1"), "due", due + timedelta(days=3), user=cid)
    with pytest.raises(edx_when.api.MissingDateError):  # no course-wide start on p1 to override
        edx_when.api.set_date_for_block(COURSE, key("problem", "p1"), "start", now, user=cid)

    dates = adapter.course_start_dates(COURSE)
    # bob's latest override on s1 is a due date: his start comes from his own dates; cid moved
    # only due dates.
    assert dates.learner_starts == ((ann.pk, now + timedelta(hours=1)), (bob.pk, now + timedelta(hours=2)))


def test_without_edx_when_no_personal_dates_and_no_error(published, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "edx_when.api", None)  # importing it raises ImportError
    dates = get_adapter().course_start_dates(COURSE)
    assert dates.learner_starts == ()
    assert dates.starts
