"""v1 GET /course/: the effective user's enrollments with their completion."""
import pytest
from django.test.utils import override_settings

from completion_aggregator.standalone.models import Course
from tests.helpers import build_course, complete, learner

from .conftest import V1, as_user, make_course_staff, store

pytestmark = pytest.mark.django_db
LIST = f"{V1}/course/"


def test_a_learner_sees_their_enrollments_ordered_by_course_key(client, course):
    course_key, leaves = course
    other_key, _ = build_course("course-v1:AAA+First+2026", shape=(1, 1, 1, 2))
    alex = learner("alex", course_key)
    from completion_aggregator.standalone.models import Enrollment

    Enrollment.objects.create(user=alex, course_key=other_key)
    store(alex, course_key, leaves[:4])
    response = as_user(client, alex).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"next": None, "previous": None, "count": 2, "num_pages": 1}
    assert body["results"] == [
        {"course_key": str(other_key), "completion": {"earned": 0.0, "possible": 2.0, "percent": 0.0}},
        {"course_key": str(course_key), "completion": {"earned": 4.0, "possible": 16.0, "percent": 0.25}},
    ]


def test_answers_are_fresh_when_work_is_pending(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:1])
    complete(alex, leaves[1])  # queued, not yet aggregated
    entry = as_user(client, alex).get(LIST).json()["results"][0]
    assert entry["completion"] == {"earned": 2.0, "possible": 16.0, "percent": 0.125}


def test_inactive_enrollments_and_other_learners_courses_are_not_listed(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    alex.standalone_enrollments.update(is_active=False)
    learner("sam", course_key)
    assert as_user(client, alex).get(LIST).json()["results"] == []


def test_own_username_in_any_case_is_accepted(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).get(LIST, {"username": "ALEX"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_learner_asking_for_another_learner_gets_403(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    learner("sam", course_key)
    assert as_user(client, alex).get(LIST, {"username": "sam"}).status_code == 403
    # Not even a hint that a user does not exist.
    assert as_user(client, alex).get(LIST, {"username": "nobody"}).status_code == 403


def test_course_staff_have_no_powers_on_the_list(client, course):
    course_key, _leaves = course
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    learner("sam", course_key)
    assert as_user(client, teacher).get(LIST, {"username": "sam"}).status_code == 403


def test_staff_may_ask_for_anyone_and_unknown_users_get_404(client, course, staff):
    course_key, leaves = course
    sam = learner("sam", course_key)
    store(sam, course_key, leaves[:8])
    response = as_user(client, staff).get(LIST, {"username": "sam", "requested_fields": "username"})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "course_key": str(course_key),
            "completion": {"earned": 8.0, "possible": 16.0, "percent": 0.5},
            "username": "sam",
        }
    ]
    response = client.get(LIST, {"username": "nobody"})
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


def test_requested_fields_add_blocks_mean_and_username(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    learner("sam", course_key)
    store(alex, course_key, leaves[:4])
    response = as_user(client, alex).get(LIST, {"requested_fields": "chapter,sequential,mean,username"})
    entry = response.json()["results"][0]
    assert entry["username"] == "alex"
    assert entry["mean"] == pytest.approx(0.125)  # alex 0.25, sam 0
    assert [block["completion"] for block in entry["chapter"]] == [
        {"earned": 4.0, "possible": 8.0, "percent": 0.5},
        {"earned": 0.0, "possible": 8.0, "percent": 0.0},
    ]
    assert entry["chapter"][0] == {
        "course_key": str(course_key),
        "block_key": str(course_key.make_usage_key("chapter", "ch0")),
        "completion": {"earned": 4.0, "possible": 8.0, "percent": 0.5},
    }
    assert [block["completion"]["earned"] for block in entry["sequential"]] == [4.0, 0.0, 0.0, 0.0]
    assert "vertical" not in entry


def test_include_optional_adds_optional_completion(client):
    course_key, leaves = build_course(extra={"ch0_se0_ve0_ht1": {"optional_completion": True}})
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])
    as_user(client, alex)
    plain = client.get(LIST, {"requested_fields": "chapter"}).json()["results"][0]
    assert "optional_completion" not in plain and "optional_completion" not in plain["chapter"][0]
    entry = client.get(LIST, {"requested_fields": "chapter", "include_optional": "TRUE"}).json()["results"][0]
    assert entry["completion"] == {"earned": 1.0, "possible": 15.0, "percent": pytest.approx(1 / 15)}
    assert entry["optional_completion"] == {"earned": 1.0, "possible": 1.0, "percent": 1.0}
    assert entry["chapter"][0]["optional_completion"] == {"earned": 1.0, "possible": 1.0, "percent": 1.0}
    assert entry["chapter"][1]["optional_completion"] == {"earned": 0.0, "possible": 0.0, "percent": 1.0}


def test_invalid_requested_fields_get_400_naming_them(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).get(LIST, {"requested_fields": "chapter,bogus,nope"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "'bogus'" in detail and "'nope'" in detail and "'chapter'" not in detail.split(".")[0]


def test_mobile_only(client):
    mobile_key, _ = build_course("course-v1:edX+Mobile+2026", shape=(1, 1, 1, 1))
    desktop_key, _ = build_course("course-v1:edX+Desktop+2026", shape=(1, 1, 1, 1))
    Course.objects.filter(course_key=mobile_key).update(mobile_available=True)
    alex = learner("alex", mobile_key)
    from completion_aggregator.standalone.models import Enrollment

    Enrollment.objects.create(user=alex, course_key=desktop_key)
    as_user(client, alex)
    assert len(client.get(LIST).json()["results"]) == 2
    results = client.get(LIST, {"mobile_only": "true"}).json()["results"]
    assert [entry["course_key"] for entry in results] == [str(mobile_key)]


@override_settings(COMPLETION_AGGREGATOR_MAX_PAGE_SIZE=2)
def test_page_size_is_capped_not_refused(client):
    alex = learner("alex")
    from completion_aggregator.standalone.models import Enrollment

    for index in range(3):
        key, _ = build_course(f"course-v1:edX+C{index}+2026", shape=(1, 1, 1, 1))
        Enrollment.objects.create(user=alex, course_key=key)
    response = as_user(client, alex).get(LIST, {"page_size": 100})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2
    assert body["pagination"]["count"] == 3 and body["pagination"]["num_pages"] == 2
    assert "page=2" in body["pagination"]["next"]
    second = client.get(LIST, {"page_size": 100, "page": 2}).json()
    assert [entry["course_key"] for entry in second["results"]] == ["course-v1:edX+C2+2026"]
