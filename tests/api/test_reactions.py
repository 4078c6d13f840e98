"""Reactions to course, enrollment and cohort changes in the standalone host."""
import pytest
from django.test.utils import override_settings

from completion_aggregator.models import Aggregator, StaleCompletion
from completion_aggregator.standalone.models import Cohort, CohortMembership, Enrollment
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db


def test_enrolling_stores_zero_rows_with_the_real_possible(django_capture_on_commit_callbacks):
    course_key, _ = build_course()
    with django_capture_on_commit_callbacks(execute=True):
        sam = learner("sam", course_key)
    row = Aggregator.objects.get(user=sam, aggregation_name="course")
    assert (row.earned, row.possible, row.percent) == (0.0, 16.0, 0.0)


def test_cohort_changes_queue_the_learner(django_capture_on_commit_callbacks):
    course_key, _ = build_course()
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        with django_capture_on_commit_callbacks(execute=True):
            sam = learner("sam", course_key)
        StaleCompletion.objects.all().delete()
        cohort = Cohort.objects.create(course_key=course_key, name="A")
        with django_capture_on_commit_callbacks(execute=True):  # one action (committed) …
            membership = CohortMembership.objects.create(cohort=cohort, user=sam, course_key=course_key)
        with django_capture_on_commit_callbacks(execute=True):  # … and another
            membership.delete()
    assert list(StaleCompletion.objects.values_list("username", "force")) == [("sam", True), ("sam", True)]


def test_changes_in_one_transaction_queue_the_learner_once():
    """One transaction is one action: the aggregation after its commit reads every change (ADR 0010)."""
    course_key, _ = build_course()
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        sam = learner("sam", course_key)  # the enrollment's forced row
        cohort = Cohort.objects.create(course_key=course_key, name="A")
        membership = CohortMembership.objects.create(cohort=cohort, user=sam, course_key=course_key)
        membership.delete()
    assert list(StaleCompletion.objects.values_list("username", "force")) == [("sam", True)]


@override_settings(ENABLE_COURSE_ACTIVITY_SIGNALS=False, COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_course_activity_reactions_can_be_turned_off(django_capture_on_commit_callbacks):
    course_key, leaves = build_course()
    sam = learner("sam", course_key)
    with django_capture_on_commit_callbacks(execute=True):
        build_course(shape=(1, 1, 1, 1))
    assert not StaleCompletion.objects.exists()
    complete(sam, leaves[0])  # completions are always queued
    assert StaleCompletion.objects.count() == 1


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_unenrolling_keeps_rows_and_queues_nothing():
    course_key, _ = build_course()
    sam = learner("sam", course_key)
    StaleCompletion.objects.all().delete()
    Enrollment.objects.filter(user=sam).update(is_active=False)
    enrollment = Enrollment.objects.get(user=sam)
    enrollment.save()
    assert not StaleCompletion.objects.exists()
