"""v0 endpoints: v1 with ``ratio``, a bare single-learner detail, and block completion POST."""
import pytest
from completion.models import BlockCompletion

from tests.helpers import build_course, learner

from .conftest import V0, as_user, detail_url, store

pytestmark = pytest.mark.django_db


def blocks_url(course_key, block_key):
    return f"{V0}/course/{course_key}/blocks/{block_key}/"


def test_v0_list_completions_carry_ratio(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])
    body = as_user(client, alex).get(f"{V0}/course/", {"requested_fields": "chapter"}).json()
    assert body["pagination"]["count"] == 1
    entry = body["results"][0]
    assert entry["completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25, "ratio": 0.25}
    assert entry["chapter"][0]["completion"] == {"earned": 4.0, "possible": 8.0, "percent": 0.5, "ratio": 0.5}


def test_v0_detail_for_one_learner_is_bare(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])
    response = as_user(client, alex).get(detail_url(course_key, V0), {"include_optional": "true"})
    assert response.status_code == 200
    assert response.json() == {
        "course_key": str(course_key),
        "completion": {"earned": 2.0, "possible": 16.0, "percent": 0.125, "ratio": 0.125},
        "optional_completion": {"earned": 0.0, "possible": 0.0, "percent": 1.0, "ratio": 1.0},
    }


def test_v0_detail_for_staff_is_their_own_entry_unless_they_name_a_learner(client, course, staff):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])
    as_user(client, staff)
    assert client.get(detail_url(course_key, V0)).status_code == 404  # staff is not enrolled
    assert client.get(detail_url(course_key, V0), {"username": "alex"}).json()["completion"]["ratio"] == 0.125


def test_v0_detail_errors(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    learner("sam", course_key)
    as_user(client, alex)
    assert client.get(detail_url("bad-key", V0)).json()["detail"] == "Invalid course key: 'bad-key'."
    assert client.get(detail_url(course_key, V0), {"username": "sam"}).status_code == 403
    assert client.get(detail_url(course_key, V0), {"requested_fields": "nope"}).status_code == 400
    assert client.post(detail_url(course_key, V0), {}, format="json").status_code == 405


def test_block_completion_created_then_updated(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    as_user(client, alex)
    response = client.post(blocks_url(course_key, leaves[0]), {"completion": 0.5}, format="json")
    assert response.status_code == 201
    assert response.json() == {"course_key": str(course_key), "block_key": str(leaves[0]), "completion": 0.5}
    response = client.post(blocks_url(course_key, leaves[0]), {"completion": 1}, format="json")
    assert response.status_code == 200
    assert BlockCompletion.objects.get(user=alex, block_key=leaves[0]).completion == 1.0
    # The completion counts at once in the learner's (fresh) answer.
    entry = client.get(detail_url(course_key, V0)).json()
    assert entry["completion"]["earned"] == 1.0


@pytest.mark.parametrize("body", [{"completion": 1.5}, {"completion": -0.1}, {"completion": "x"}, {"completion": True}, {}])
def test_block_completion_bad_values_get_400(client, course, body):
    course_key, leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).post(blocks_url(course_key, leaves[0]), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid completion")
    assert not BlockCompletion.objects.exists()


def test_block_completion_404s(client, course):
    course_key, leaves = course
    other_key, other_leaves = build_course("course-v1:edX+Other+2026", shape=(1, 1, 1, 1))
    alex = learner("alex", course_key)
    as_user(client, alex)
    body = {"completion": 1.0}
    not_enrolled = client.post(blocks_url(other_key, other_leaves[0]), body, format="json")
    assert not_enrolled.status_code == 404 and "not enrolled" in not_enrolled.json()["detail"]
    bad_course = client.post(blocks_url("nope", leaves[0]), body, format="json")
    assert bad_course.json()["detail"] == "Invalid course key: 'nope'."
    bad_block = client.post(blocks_url(course_key, "not-a-block"), body, format="json")
    assert bad_block.status_code == 404 and "'not-a-block'" in bad_block.json()["detail"]
    elsewhere = client.post(blocks_url(course_key, other_leaves[0]), body, format="json")
    assert elsewhere.status_code == 404 and "is not in course" in elsewhere.json()["detail"]
    missing = client.post(blocks_url(course_key, course_key.make_usage_key("html", "missing")), body, format="json")
    assert missing.status_code == 404
    assert not BlockCompletion.objects.exists()
