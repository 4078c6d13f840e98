"""
Issue 18, point 2: hostile input and courses a learner cannot see yet answer 4xx or a real
answer, never a 500.

* A JSON body nested 1,000 deep (Python's ``json`` raises ``RecursionError``, which DRF's
  parser does not catch) is a 400 on every endpoint that takes a body.
* A course whose root is not released yet (start in the future) or is staff-only: a learner
  sees an empty course (``{earned 0, possible 0, percent 1.0}``, as for any empty course) on
  every delivery path, and their whole course list still answers.
"""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from completion_aggregator import api
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, learner

from .conftest import V0, V1, as_user, detail_url, stats_url, store

pytestmark = pytest.mark.django_db

EMPTY = {"earned": 0.0, "possible": 0.0, "percent": 1.0}
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"completion": ' + "[" * 1000 + "]" * 1000 + "}"


# Deep JSON ----------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, '{"a": ' * 1000 + "1" + "}" * 1000])
@pytest.mark.parametrize("url", ["{V1}/course/{key}/", "{V0}/course/{key}/blocks/{block}/"])
def test_json_nested_1000_deep_is_a_400(client, course, url, body):
    course_key, leaves = course
    alex = learner("alex", course_key)
    as_user(client, alex)
    response = client.post(
        url.format(V1=V1, V0=V0, key=course_key, block=leaves[0]), data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert "JSON" in response.json()["detail"]


# A course the learner cannot see yet --------------------------------------------------------
def hidden_course(how: str, course_key: str = "course-v1:edX+Later+2026"):
    """A 2x1x1x2 course whose root starts next year, or is staff-only."""
    extra = {"course": {"start": timezone.now() + timedelta(days=365)}} if how == "upcoming" else {
        "course": {"visible_to_staff_only": True}
    }
    return build_course(course_key, shape=(2, 1, 1, 2), extra=extra)


@pytest.fixture(params=["upcoming", "staff_only"])
def hidden(request, course):
    """(hidden course key, its leaves, a learner enrolled in it and in the regular course)."""
    key, leaves = hidden_course(request.param)
    regular_key, regular_leaves = course
    alex = learner("alex", key)
    from completion_aggregator.standalone.models import Enrollment

    Enrollment.objects.create(user=alex, course_key=regular_key)
    store(alex, regular_key, regular_leaves[:4])
    return key, leaves, alex


def test_learner_detail_of_a_hidden_course_is_an_empty_course(client, hidden):
    key, _leaves, alex = hidden
    for url in (detail_url(key), detail_url(key, V0)):
        response = as_user(client, alex).get(url, {"requested_fields": "chapter,sequential,vertical"})
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        entry = body["results"][0] if "results" in body else body
        assert {k: entry["completion"][k] for k in EMPTY} == EMPTY
        assert entry["chapter"] == [] and entry["vertical"] == []


def test_learner_with_pending_work_in_a_hidden_course(client, hidden):
    """A completion recorded before the course was hidden leaves pending work: still an empty course."""
    key, leaves, alex = hidden
    complete(alex, leaves[0])  # synchronous mode aggregates it after commit
    response = as_user(client, alex).post(detail_url(key), {"username": "alex"}, format="json")
    assert response.status_code == 200
    assert response.json()["results"][0]["completion"] == EMPTY
    assert api.get_course_progress(alex, key).course.percent == 1.0


def test_whole_course_list_answers_with_a_hidden_course_in_it(client, course, hidden):
    key, _leaves, alex = hidden
    regular_key, _ = course
    for version in (V1, V0):
        response = as_user(client, alex).get(f"{version}/course/", {"requested_fields": "chapter,mean"})
        assert response.status_code == 200, response.content[:300]
        by_key = {entry["course_key"]: entry for entry in response.json()["results"]}
        assert {k: by_key[str(key)]["completion"][k] for k in EMPTY} == EMPTY
        assert by_key[str(regular_key)]["completion"]["earned"] == 4.0


def test_staff_listing_and_stats_of_a_hidden_course(client, staff, hidden):
    key, _leaves, alex = hidden
    as_user(client, staff)
    listing = client.get(detail_url(key), {"requested_fields": "chapter,mean"})
    assert listing.status_code == 200, listing.content[:300]
    assert [entry["username"] for entry in listing.json()["results"]] == ["alex"]
    stats = client.get(stats_url(key), {"requested_fields": "chapter,mean"})
    assert stats.status_code == 200, stats.content[:300]
    # Staff ask for one learner: the learner's view (the root hidden), an empty course.
    one = client.get(detail_url(key), {"username": "alex"})
    assert one.status_code == 200 and one.json()["results"][0]["completion"] == EMPTY


def test_v0_block_post_in_a_hidden_course(client, hidden):
    key, leaves, alex = hidden
    response = as_user(client, alex).post(
        f"{V0}/course/{key}/blocks/{leaves[0]}/", {"completion": 1.0}, format="json"
    )
    assert response.status_code < 500, response.content[:300]


def test_progress_bar_of_a_hidden_course_answers(hidden):
    key, _leaves, alex = hidden
    browser = Client()
    browser.force_login(alex)
    for url in (f"/completion-aggregator/progress_bar/{key}/", f"/completion-aggregator/progress_bar/{key}/ch0/"):
        response = browser.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
    page = browser.get(f"/completion-aggregator/progress_bar/{key}/")
    assert page.status_code == 200
    # Not "100 % complete" for a course that has not started: an embeddable "nothing yet" state.
    assert 'data-reason="nothing-to-complete"' in page.content.decode()
    assert "100 % complete" not in page.content.decode()


def test_aggregating_a_hidden_course_stores_nothing_and_resolves_the_work(hidden, client):
    """No 100 % row is stored for a course that has not started: once it starts, reads are real."""
    key, leaves, alex = hidden
    complete(alex, leaves[0])
    api.aggregate_learners(key, ["alex"])
    assert not Aggregator.objects.filter(user=alex, course_key=key).exists()
    assert not StaleCompletion.objects.filter(username="alex", course_key=key, resolved=False).exists()
    # The course opens (a new version without the restriction): the learner's real progress.
    build_course(str(key), shape=(2, 1, 1, 2))
    response = as_user(client, alex).get(detail_url(key))
    assert response.json()["results"][0]["completion"] == {"earned": 1.0, "possible": 4.0, "percent": 0.25}
