"""Bugs found while testing the REST API, each pinned by a test."""
import pytest

from tests.helpers import learner

from .conftest import as_user, detail_url, stats_url, store

pytestmark = pytest.mark.django_db

AGGREGATORS = [
    ("course", "course"),
    ("chapter", "ch1"),
    ("sequential", "ch0_se1"),
    ("vertical", "ch1_se0_ve1"),
]


@pytest.mark.parametrize("block_type,block_id", AGGREGATORS)
def test_a_learners_entry_under_root_block_is_the_same_in_the_staff_listing(client, course, block_type, block_id):
    """The staff listing used to leave the root block out of its own type's list."""
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[::3])
    admin = learner("admin", is_staff=True)
    params = {"root_block": str(course_key.make_usage_key(block_type, block_id)), "requested_fields": "chapter,sequential,vertical"}
    own = as_user(client, alex).get(detail_url(course_key), params).json()["results"]
    listed = as_user(client, admin).get(detail_url(course_key), params).json()["results"]
    assert [{**entry, "username": "alex"} for entry in own] == listed
    if block_type != "course":
        assert str(course_key.make_usage_key(block_type, block_id)) in [block["block_key"] for block in listed[0][block_type]]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("raw", ["99999999999999999999999", "9223372036854775808"])
def test_user_ids_too_large_for_the_database_get_400_not_500(client, course, method, raw):
    """sqlite cannot bind such an integer: it used to answer 500."""
    course_key, _leaves = course
    learner("alex", course_key)
    admin = learner("admin", is_staff=True)
    value = raw if method == "get" else [int(raw)]
    response = getattr(as_user(client, admin), method)(detail_url(course_key), {"user_ids": value}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Invalid user_ids: '{raw}' (expected integers)."}


def test_the_largest_id_is_accepted(client, course):
    course_key, _leaves = course
    learner("alex", course_key)
    admin = learner("admin", is_staff=True)
    response = as_user(client, admin).get(detail_url(course_key), {"user_ids": str(2**63 - 1)})
    assert response.status_code == 200 and response.json()["results"] == []


def test_a_cohort_id_too_large_gets_400_not_500(client, course):
    course_key, _leaves = course
    admin = learner("admin", is_staff=True)
    response = as_user(client, admin).get(stats_url(course_key), {"cohorts": "99999999999999999999999"})
    assert response.status_code == 400


def test_a_bare_negative_user_id_in_a_post_is_refused_like_in_a_list(client, course):
    course_key, _leaves = course
    admin = learner("admin", is_staff=True)
    for raw in (-3, [-3]):
        response = as_user(client, admin).post(detail_url(course_key), {"user_ids": raw}, format="json")
        assert response.status_code == 400 and response.json()["detail"] == "Invalid user_ids: '-3' (expected integers)."


@pytest.mark.parametrize("params", [{"cohorts": "abc"}, {"requested_fields": "bogus"}, {"exclude_roles": ""}])
def test_a_learner_is_refused_statistics_whatever_the_parameters(client, course, params):
    """Parameters used to be validated first: a learner got 400 (not 403) for bad ones."""
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).get(stats_url(course_key), params)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff of this course may see its statistics."}
