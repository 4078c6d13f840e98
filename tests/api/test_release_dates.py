"""
Time moves content (issue 16, point 6; ADR 0012).

A chapter released in the future: learners who finished the released part hold 100 %. When
its start date passes, ``run_aggregator_service`` marks the course stale and their stored
percent drops. And a stored answer is never served for a structure it was not computed from.
The clock is ``django.utils.timezone.now``, moved by patching it (no sleeping).
"""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.api.releases import COLD_START_LOOKBACK, mark_released_stale
from completion_aggregator.batch import run_service
from completion_aggregator.data import CourseStartDatesData
from completion_aggregator.models import Aggregator, StaleCompletion
from completion_aggregator.standalone.adapter import StandaloneAdapter
from tests.helpers import build_course, complete, learner

pytestmark = pytest.mark.django_db

#: The blocks of the second chapter of ``build_course(shape=(2, 1, 1, 2))``.
CHAPTER_2 = ("ch1", "ch1_se0", "ch1_se0_ve0", "ch1_se0_ve0_ht0", "ch1_se0_ve0_ht1")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # the time of the last check lives in the cache (locmem survives tests)
    yield
    cache.clear()


def weekly_course(release):
    """Two chapters of two leaves; the second (every block of it: effective starts) from ``release``."""
    return build_course(shape=(2, 1, 1, 2), extra={block: {"start": release} for block in CHAPTER_2})


def stored_course(user, course_key):
    row = Aggregator.objects.get(user=user, course_key=course_key, aggregation_name="course")
    return row.earned, row.possible, row.percent


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_a_start_date_that_passes_makes_the_service_recompute_the_course():
    start = timezone.now()
    course_key, leaves = weekly_course(start + timedelta(days=7))
    alex, bo = learner("alex", course_key), learner("bo", course_key)
    for leaf in leaves[:2]:
        complete(alex, leaf)
    api.aggregate_learners(course_key, ["alex", "bo"])
    assert stored_course(alex, course_key) == (2.0, 2.0, 1.0)  # all of the released part
    assert stored_course(bo, course_key) == (0.0, 2.0, 0.0)

    assert run_service().released_courses == 0  # nothing released yet; the check time is remembered
    with at(start + timedelta(days=6, hours=23)):
        assert run_service().released_courses == 0
    assert stored_course(alex, course_key) == (2.0, 2.0, 1.0)

    with at(start + timedelta(days=7, minutes=20)):
        summary = run_service()
    assert summary.released_courses == 1 and summary.learner_count == 2
    assert stored_course(alex, course_key) == (2.0, 4.0, 0.5)
    assert stored_course(bo, course_key) == (0.0, 4.0, 0.0)
    assert not StaleCompletion.objects.filter(resolved=False).exists()

    with at(start + timedelta(days=8)):  # the release is behind the last check: not queued again
        assert run_service().released_courses == 0


def test_the_check_runs_at_most_once_per_interval(settings):
    start = timezone.now()
    course_key, leaves = weekly_course(start + timedelta(minutes=10))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    settings.COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL = 900
    assert mark_released_stale(now=start).checked
    later = start + timedelta(minutes=11)
    assert not mark_released_stale(now=later).checked  # within 900 s of the last check
    result = mark_released_stale(now=start + timedelta(minutes=16))
    assert result.checked and result.since == start and result.courses == [str(course_key)]

    settings.COMPLETION_AGGREGATOR_RELEASE_CHECK_INTERVAL = None  # turned off
    assert not mark_released_stale(now=start + timedelta(days=30)).checked


def test_without_a_remembered_check_the_service_looks_back_one_day():
    start = timezone.now()
    course_key, leaves = weekly_course(start - timedelta(hours=2))
    alex = learner("alex", course_key)
    with at(start - timedelta(hours=3)):  # rows written before the release
        complete(alex, leaves[0])
        api.aggregate_learners(course_key, ["alex"])
    assert stored_course(alex, course_key)[1] == 2.0
    result = mark_released_stale(now=start)
    assert result.since == start - COLD_START_LOOKBACK and result.courses == [str(course_key)]
    api.aggregate_learners(course_key, ["alex"])
    assert stored_course(alex, course_key)[1] == 4.0


def test_the_adapters_report_effective_start_dates():
    release = timezone.now() + timedelta(days=7)
    course_key, _leaves = weekly_course(release)
    dates = get_adapter().course_start_dates(course_key)
    assert dates.starts == (release,) and dates.learner_starts == ()


class PersonalDatesAdapter(StandaloneAdapter):
    """A host that moves start dates per learner (as edx-when's overrides do)."""

    learner_starts: tuple = ()

    def course_start_dates(self, course_key):
        found = super().course_start_dates(course_key)
        return CourseStartDatesData(found.course_key, found.starts, self.learner_starts)


def test_a_personalised_start_date_queues_only_its_learner(settings):
    settings.COMPLETION_AGGREGATOR_ADAPTER = f"{__name__}.PersonalDatesAdapter"
    start = timezone.now()
    course_key, _leaves = build_course(shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    learner("bo", course_key)
    api.aggregate_learners(course_key, ["alex", "bo"])
    get_adapter().learner_starts = ((alex.pk, start + timedelta(days=2)),)
    try:
        assert mark_released_stale(now=start).learner_courses == []
        result = mark_released_stale(now=start + timedelta(days=3))
    finally:
        get_adapter().learner_starts = ()
    assert result.learner_courses == [str(course_key)] and result.enrollments == 1
    assert list(StaleCompletion.objects.filter(resolved=False).values_list("username", "force")) == [("alex", True)]


def test_the_command_still_reports_its_summary():
    course_key, _leaves = weekly_course(timezone.now() + timedelta(days=1))
    learner("alex", course_key)
    api.aggregate_learners(course_key, ["alex"])
    call_command("run_aggregator_service", verbosity=0)
    assert cache.get("completion_aggregator.release_check.last") is not None


# The read path: the stored answer must match the current structure -----------------------


def test_content_added_to_a_unit_shows_in_the_learners_get_before_any_service_run(settings):
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    for leaf in leaves:
        complete(alex, leaf)
    api.aggregate_learners(course_key, ["alex"])
    assert stored_course(alex, course_key) == (2.0, 2.0, 1.0)

    # Published again with a third html in the unit; the publish's own (delayed) recompute has
    # not run yet, so nothing is pending for the learner and their stored rows say 2 of 2.
    settings.ENABLE_COURSE_ACTIVITY_SIGNALS = False
    build_course(str(course_key), shape=(1, 1, 1, 3))
    assert not api.has_pending_work("alex", course_key)

    client = APIClient()
    client.force_authenticate(user=alex)
    response = client.get(f"/completion-aggregator/v1/course/{course_key}/", {"requested_fields": "vertical"})
    assert response.status_code == 200
    entry = response.json()["results"][0]
    assert entry["completion"] == {"earned": 2.0, "possible": 3.0, "percent": pytest.approx(2 / 3)}
    assert entry["vertical"][0]["completion"]["possible"] == 3.0
    assert stored_course(alex, course_key) == (2.0, 2.0, 1.0)  # the read path writes nothing


def test_a_release_shows_in_the_learners_get_before_any_service_run():
    start = timezone.now()
    course_key, leaves = weekly_course(start + timedelta(days=7))
    alex = learner("alex", course_key)
    for leaf in leaves[:2]:
        complete(alex, leaf)
    api.aggregate_learners(course_key, ["alex"])
    with at(start + timedelta(days=8)):
        progress = api.get_course_progress(alex, course_key)
    assert (progress.course.possible, progress.course.percent, progress.fresh) == (4.0, 0.5, True)


def test_stored_rows_matching_the_structure_are_served():
    course_key, leaves = build_course(shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    complete(alex, leaves[0])
    api.aggregate_learners(course_key, ["alex"])
    progress = api.get_course_progress(alex, course_key)
    assert (progress.course.possible, progress.fresh) == (2.0, False)
