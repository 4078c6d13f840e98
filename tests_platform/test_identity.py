"""
Learner identity (issue 16 point 7; ADR 0010): renames keep pending work; retirement forgets the learner.

Stale rows name learners by username. A rename (an administrator's, or the retirement's
scrambling) must carry them over; ``USER_RETIRE_LMS_MISC`` / ``USER_RETIRE_LMS_CRITICAL``
(``openedx.core.djangoapps.user_api.accounts.signals``, sent by the fake's retirement views as
the LMS sends them) must leave no row of ours naming the learner, and the statistics right.
"""
from __future__ import annotations

import pytest
from completion.models import BlockCompletion
from django.core.management import call_command

from completion_aggregator import api
from completion_aggregator.api import totals
from completion_aggregator.models import Aggregator, BlockTotal, CountedLearner, CourseTotal, StaleCompletion

from .conftest import COURSE, key, make_user

pytestmark = pytest.mark.django_db


def course_row(user):
    row = Aggregator.objects.get(user=user, course_key=COURSE, aggregation_name="course")
    return row.earned, row.possible


@pytest.fixture
def learners(published, django_capture_on_commit_callbacks):
    """ann (h1 and p1 complete) and bob (h1), enrolled and aggregated; the course's totals built."""
    from common.djangoapps.student.models import CourseEnrollment

    ann, bob = make_user("ann"), make_user("bob")
    with django_capture_on_commit_callbacks(execute=True):
        for user in (ann, bob):
            CourseEnrollment.enroll(user, COURSE)
        BlockCompletion.objects.submit_completion(ann, key("html", "h1"), 1.0)
        BlockCompletion.objects.submit_completion(ann, key("problem", "p1"), 1.0)
        BlockCompletion.objects.submit_completion(bob, key("html", "h1"), 1.0)
    totals.rebuild(COURSE)
    assert course_row(ann) == (2.0, 2.0) and course_row(bob) == (1.0, 2.0)
    return ann, bob


def test_a_renamed_learner_keeps_the_work_pending_under_the_old_name(learners, settings):
    ann, _bob = learners
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True  # the service does the work
    BlockCompletion.objects.submit_completion(ann, key("problem", "p1"), 0.0)  # stale row "ann"
    ann.username = "anna"
    ann.save()  # before the service runs
    assert StaleCompletion.objects.filter(username="anna", resolved=False).count() == 1
    assert not StaleCompletion.objects.filter(username="ann").exists()

    call_command("run_aggregator_service")
    assert course_row(ann) == (1.0, 2.0)  # the completion's change is not lost
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_a_save_that_leaves_the_username_out_costs_no_query(learners, django_assert_num_queries):
    ann, _bob = learners
    with django_assert_num_queries(1):  # the UPDATE of the login alone
        ann.save(update_fields=["last_login"])
    with django_assert_num_queries(2):  # the stored username read, the UPDATE (no rename: no more)
        ann.save()


def _forgotten(user, *names):
    assert not Aggregator.objects.filter(user_id=user.pk).exists()
    assert not StaleCompletion.objects.filter(username__in=names).exists()
    assert not CountedLearner.objects.filter(user_id=user.pk).exists()


def test_retirement_forgets_the_learner_and_keeps_the_statistics_right(learners, settings, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment
    from openedx.core.djangoapps.user_api.accounts.views import get_retired_username_by_username, retire, retire_misc

    ann, bob = learners
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    BlockCompletion.objects.submit_completion(ann, key("html", "h1"), 0.5)  # pending work under "ann"
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.unenroll(ann, COURSE)  # the pipeline's enrollment step comes first
    with django_capture_on_commit_callbacks(execute=True):
        retire_misc(ann)  # USER_RETIRE_LMS_MISC
    _forgotten(ann, "ann")
    with django_capture_on_commit_callbacks(execute=True):
        retire(ann)  # USER_RETIRE_LMS_CRITICAL, then the username is scrambled
    retired = get_retired_username_by_username("ann")
    ann.refresh_from_db()
    assert ann.username == retired
    _forgotten(ann, "ann", retired)

    assert totals.check(COURSE) == []
    assert CourseTotal.objects.get(course_key=COURSE).learners == 1
    course = BlockTotal.objects.get(course_key=COURSE, aggregation_name="course")
    assert (course.learners, course.earned, course.possible) == (1, 1.0, 2.0)  # bob's row alone
    stats = api.get_course_stats(COURSE)
    assert stats.learner_count == 1 and stats.mean_completion.earned == 1.0  # bob alone
    call_command("run_aggregator_service")
    assert not Aggregator.objects.filter(user_id=ann.pk).exists()  # nothing comes back


def test_retirement_of_a_learner_still_enrolled_keeps_the_counts_right(learners, django_capture_on_commit_callbacks):
    from openedx.core.djangoapps.user_api.accounts.views import retire, retire_misc

    ann, _bob = learners
    with django_capture_on_commit_callbacks(execute=True):
        retire_misc(ann)
        retire(ann)
    assert not Aggregator.objects.filter(user_id=ann.pk).exists()
    assert not StaleCompletion.objects.filter(username="ann").exists()
    assert totals.check(COURSE) == []  # still enrolled: counted, with no rows


def test_deleting_a_user_deletes_their_stale_rows_too(learners, settings):
    """Also those their completions' cascade would write (a deleted user has nothing to aggregate)."""
    ann, _bob = learners
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True
    BlockCompletion.objects.submit_completion(ann, key("html", "h1"), 0.5)
    ann.delete()
    assert not StaleCompletion.objects.filter(username="ann").exists()
    assert totals.check(COURSE) == []
