"""
One user action, one aggregation (issue 16 point 8; ADR 0010).

A real enrollment sends openedx-events ``COURSE_ENROLLMENT_CHANGED`` then
``COURSE_ENROLLMENT_CREATED``; a cohort change the legacy ``COHORT_MEMBERSHIP_UPDATED`` and
openedx-events ``COHORT_MEMBERSHIP_CHANGED`` (the fake sends both as the platform
does). Each learner's aggregation costs one ``get_course_blocks`` call: the tests count them.
"""
from __future__ import annotations

import pytest
from completion.models import BlockCompletion

from completion_aggregator.models import Aggregator, StaleCompletion

from .conftest import COURSE, cohort_in_group, course_blocks, key, make_user


class Counter:
    """Counts the per-learner structure computations (the fake's ``get_course_blocks``)."""

    def __init__(self, func):
        self.func, self.users = func, []

    def __call__(self, user, *args, **kwargs):
        self.users.append(user.username)
        return self.func(user, *args, **kwargs)


@pytest.fixture
def aggregations(monkeypatch):
    import lms.djangoapps.course_blocks.api as course_blocks_api

    counter = Counter(course_blocks_api.get_course_blocks)
    monkeypatch.setattr(course_blocks_api, "get_course_blocks", counter)
    return counter.users


@pytest.fixture
def committed_course(transactional_db):
    """The fixture course, published and built, in a test that commits (no surrounding transaction)."""
    from openedx.core.djangoapps.content.block_structure.api import update_course_in_cache
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
    from xmodule.modulestore.django import modulestore

    modulestore().publish_fixture(COURSE, course_blocks(), emit_signals=False, display_name="Fake")
    CourseOverview.load_from_module_store(COURSE)
    update_course_in_cache(COURSE)
    return COURSE


def course_row(user):
    row = Aggregator.objects.get(user=user, course_key=COURSE, aggregation_name="course")
    return row.earned, row.possible


def test_an_enrollment_request_outside_a_transaction_aggregates_once(committed_course, aggregations, client):
    ann = make_user("ann")
    response = client.get(f"/fake-lms/enroll/{COURSE}/", {"username": "ann"})
    assert response.status_code == 200
    assert aggregations == ["ann"]  # CHANGED + CREATED: one aggregation, at the end of the request
    assert course_row(ann) == (0.0, 2.0)
    assert StaleCompletion.objects.filter(username="ann", force=True).count() == 1
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_a_cohort_request_outside_a_transaction_aggregates_once(committed_course, aggregations, client):
    from common.djangoapps.student.models import CourseEnrollment

    ann = make_user("ann")
    CourseEnrollment.enroll(ann, COURSE)  # no request, no transaction: at once (one per signal)
    BlockCompletion.objects.submit_completion(ann, key("html", "h2"), 1.0)
    cohort = cohort_in_group("One", 1)
    aggregations.clear()
    response = client.get(f"/fake-lms/cohort/{cohort.id}/add/", {"username": "ann"})
    assert response.status_code == 200
    assert aggregations == ["ann"]  # COHORT_MEMBERSHIP_UPDATED + COHORT_MEMBERSHIP_CHANGED
    assert course_row(ann) == (1.0, 3.0)
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_an_enrollment_in_a_celery_task_aggregates_once(committed_course, aggregations):
    from .tasks import enroll

    ann = make_user("ann")
    enroll.delay("ann", str(COURSE))  # eager: task_prerun … task_postrun around it
    assert aggregations == ["ann"]
    assert course_row(ann) == (0.0, 2.0)


def test_an_enrollment_in_a_transaction_aggregates_once(published, aggregations, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment

    ann = make_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.enroll(ann, COURSE)
    assert aggregations == ["ann"]
    assert StaleCompletion.objects.filter(username="ann", force=True).count() == 1
    assert course_row(ann) == (0.0, 2.0)


def test_a_rolled_back_action_leaves_nothing_pending(published, aggregations, django_capture_on_commit_callbacks):
    """A savepoint rolled back drops its reaction with its stale row; the next action is not swallowed."""
    from common.djangoapps.student.models import CourseEnrollment
    from django.db import transaction

    ann = make_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                CourseEnrollment.enroll(ann, COURSE)
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        CourseEnrollment.enroll(ann, COURSE)
    assert aggregations == ["ann"]
    assert course_row(ann) == (0.0, 2.0)
    assert StaleCompletion.objects.filter(username="ann").count() == 1


def test_two_actions_aggregate_twice(committed_course, aggregations, client):
    """Coalescing is per action: a later action is recomputed again."""
    make_user("ann")
    cohort = cohort_in_group("One", 1)
    client.get(f"/fake-lms/enroll/{COURSE}/", {"username": "ann"})
    client.get(f"/fake-lms/cohort/{cohort.id}/add/", {"username": "ann"})
    # The first computation is the unplaced view (AnonymousUser's tree: ann is in no cohort yet, ADR 0011).
    assert aggregations == ["", "ann"]
