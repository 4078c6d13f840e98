"""v1 GET/POST /course/<course_key>/: one learner (fresh) or every enrollment (staff, stored)."""
import pytest
from django.test.utils import override_settings

from completion_aggregator.standalone.models import Enrollment
from tests.helpers import build_course, complete, learner

from .conftest import as_user, detail_url, make_course_staff, store

pytestmark = pytest.mark.django_db


def chapter_key(course_key, name="ch0"):
    return str(course_key.make_usage_key("chapter", name))


# One learner ------------------------------------------------------------------------------


def test_a_learner_gets_their_entry_in_the_pagination_envelope(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])
    response = as_user(client, alex).get(detail_url(course_key))
    assert response.status_code == 200
    assert response.json() == {
        "pagination": {"next": None, "previous": None, "count": 1, "num_pages": 1},
        "results": [{"course_key": str(course_key), "completion": {"earned": 4.0, "possible": 16.0, "percent": 0.25}}],
    }


def test_the_single_entry_is_recomputed_when_work_is_pending(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    complete(alex, leaves[0])  # never aggregated: no stored rows at all
    entry = as_user(client, alex).get(detail_url(course_key), {"username": "alex"}).json()["results"][0]
    assert entry["completion"] == {"earned": 1.0, "possible": 16.0, "percent": 1 / 16}


def test_root_block_limits_the_answer_to_its_subtree(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])
    params = {"root_block": chapter_key(course_key, "ch0"), "requested_fields": "chapter,sequential"}
    entry = as_user(client, alex).get(detail_url(course_key), params).json()["results"][0]
    # completion stays the course's (issue 17, point 4); the root block's own is in its list.
    assert entry["completion"] == {"earned": 2.0, "possible": 16.0, "percent": 0.125}
    assert entry["chapter"][0]["completion"] == {"earned": 2.0, "possible": 8.0, "percent": 0.25}
    assert [block["block_key"] for block in entry["chapter"]] == [chapter_key(course_key, "ch0")]
    assert [block["block_key"] for block in entry["sequential"]] == [
        str(course_key.make_usage_key("sequential", "ch0_se0")),
        str(course_key.make_usage_key("sequential", "ch0_se1")),
    ]


@pytest.mark.parametrize(
    "root_block,message",
    [
        ("not-a-usage-key", "Invalid root_block: 'not-a-usage-key'."),
        ("block-v1:edX+Agg+2026+type@chapter+block@missing", "Invalid root_block: 'block-v1:edX+Agg+2026+type@chapter+block@missing'"),
        ("block-v1:edX+Other+2026+type@chapter+block@ch0", "Invalid root_block: 'block-v1:edX+Other+2026+type@chapter+block@ch0'"),
    ],
)
def test_invalid_root_block_gets_404(client, course, root_block, message):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).get(detail_url(course_key), {"root_block": root_block})
    assert response.status_code == 404
    assert response.json()["detail"].startswith(message)


@pytest.mark.parametrize("method", ["get", "post"])
def test_invalid_course_key_gets_404_naming_it(client, method):
    alex = learner("alex")
    response = getattr(as_user(client, alex), method)(detail_url("not-a-course-key"), format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid course key: 'not-a-course-key'."


def test_not_enrolled_gets_404(client, course):
    course_key, _leaves = course
    alex = learner("alex")
    response = as_user(client, alex).get(detail_url(course_key))
    assert response.status_code == 404
    assert "not enrolled" in response.json()["detail"]
    # Inactive enrollments do not count.
    Enrollment.objects.create(user=alex, course_key=course_key, is_active=False)
    assert client.get(detail_url(course_key)).status_code == 404
    # Nor does an unknown course.
    assert client.get(detail_url("course-v1:edX+Nowhere+2026")).status_code == 404


def test_a_learner_asking_for_another_learner_gets_403(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    learner("sam", course_key)
    assert as_user(client, alex).get(detail_url(course_key), {"username": "sam"}).status_code == 403
    assert client.post(detail_url(course_key), {"username": "sam"}, format="json").status_code == 403
    assert client.get(detail_url(course_key), {"username": "Alex"}).status_code == 200


def test_staff_asking_for_an_unknown_user_gets_404(client, course, staff):
    course_key, _leaves = course
    response = as_user(client, staff).get(detail_url(course_key), {"username": "nobody"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown username: 'nobody'."


def test_staff_asking_for_a_learner_gets_that_learners_fresh_entry(client, course, staff):
    course_key, leaves = course
    sam = learner("sam", course_key)
    complete(sam, leaves[0])
    response = as_user(client, staff).get(detail_url(course_key), {"username": "sam", "requested_fields": "username"})
    assert response.json()["results"] == [
        {"course_key": str(course_key), "completion": {"earned": 1.0, "possible": 16.0, "percent": 1 / 16}, "username": "sam"}
    ]


def test_invalid_requested_fields_get_400(client, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).get(detail_url(course_key), {"requested_fields": "chapter,course,xyz"})
    assert response.status_code == 400
    assert "'course'" in response.json()["detail"] and "'xyz'" in response.json()["detail"]
    response = client.post(detail_url(course_key), {"requested_fields": ["unit"]}, format="json")
    assert response.status_code == 400 and "'unit'" in response.json()["detail"]


# Every learner (staff) ------------------------------------------------------------------


def test_staff_list_every_active_enrollment_by_user_id_from_stored_values(client, course, staff):
    course_key, leaves = course
    sam = learner("sam", course_key)
    alex = learner("alex", course_key)
    kim = learner("kim", course_key)  # never started
    gone = learner("gone", course_key)
    gone.standalone_enrollments.update(is_active=False)
    learner("outsider")
    store(sam, course_key, leaves[:8])
    store(alex, course_key, leaves[:4])
    complete(alex, leaves[4])  # pending: the listing shows stored values only
    response = as_user(client, staff).get(detail_url(course_key), {"requested_fields": "chapter"})
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"]["count"] == 3
    assert [entry["username"] for entry in body["results"]] == ["sam", "alex", "kim"]
    assert [entry["completion"] for entry in body["results"]] == [
        {"earned": 8.0, "possible": 16.0, "percent": 0.5},
        {"earned": 4.0, "possible": 16.0, "percent": 0.25},
        {"earned": 0.0, "possible": 16.0, "percent": 0.0},
    ]
    kim_entry = body["results"][2]
    assert kim_entry["course_key"] == str(course_key)
    assert [block["completion"] for block in kim_entry["chapter"]] == [
        {"earned": 0.0, "possible": 8.0, "percent": 0.0},
        {"earned": 0.0, "possible": 8.0, "percent": 0.0},
    ]
    assert [block["block_key"] for block in body["results"][0]["chapter"]] == [
        chapter_key(course_key, "ch0"),
        chapter_key(course_key, "ch1"),
    ]
    assert kim.pk > alex.pk > sam.pk


def test_staff_list_with_root_block(client, course, staff):
    course_key, leaves = course
    sam = learner("sam", course_key)
    learner("kim", course_key)
    store(sam, course_key, leaves[8:10])
    params = {"root_block": chapter_key(course_key, "ch1"), "requested_fields": "sequential"}
    results = as_user(client, staff).get(detail_url(course_key), params).json()["results"]
    assert [entry["completion"] for entry in results] == [
        {"earned": 2.0, "possible": 16.0, "percent": 0.125},
        {"earned": 0.0, "possible": 16.0, "percent": 0.0},
    ]
    assert [len(entry["sequential"]) for entry in results] == [2, 2]
    response = client.get(detail_url(course_key), {"root_block": "block-v1:edX+Agg+2026+type@chapter+block@zz"})
    assert response.status_code == 404


@pytest.mark.parametrize("user_ids", ["{a},{c}", "{a}.{c}", "{c}, {a}"])
def test_staff_list_filtered_by_user_ids(client, course, staff, user_ids):
    course_key, _leaves = course
    a, b, c = (learner(name, course_key) for name in ("a", "b", "c"))
    raw = user_ids.format(a=a.pk, b=b.pk, c=c.pk)
    results = as_user(client, staff).get(detail_url(course_key), {"user_ids": raw}).json()["results"]
    assert [entry["username"] for entry in results] == ["a", "c"]


@pytest.mark.parametrize("user_ids", ["1,abc", "1;2", "x", "1.5e3"])
def test_non_integer_user_ids_get_400(client, course, staff, user_ids):
    course_key, _leaves = course
    learner("a", course_key)
    response = as_user(client, staff).get(detail_url(course_key), {"user_ids": user_ids})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid user_ids:")


def test_post_takes_the_parameters_as_json(client, course, staff):
    course_key, leaves = course
    users = [learner(f"l{index}", course_key) for index in range(4)]
    store(users[2], course_key, leaves[:1])
    body = {"user_ids": [users[2].pk, users[3].pk], "requested_fields": ["chapter"], "include_optional": True}
    response = as_user(client, staff).post(detail_url(course_key), body, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["username"] for entry in results] == ["l2", "l3"]
    assert results[0]["completion"]["earned"] == 1.0
    assert results[0]["optional_completion"] == {"earned": 0.0, "possible": 0.0, "percent": 1.0}
    assert "optional_completion" in results[1]["chapter"][0]
    bad = client.post(detail_url(course_key), {"user_ids": [users[0].pk, "two"]}, format="json")
    assert bad.status_code == 400 and "'two'" in bad.json()["detail"]
    single = client.post(detail_url(course_key), {"username": "l2"}, format="json").json()["results"]
    assert [entry["completion"]["earned"] for entry in single] == [1.0]


@override_settings(COMPLETION_AGGREGATOR_MAX_PAGE_SIZE=2)
def test_staff_list_page_size_is_capped(client, course, staff):
    course_key, _leaves = course
    for index in range(5):
        learner(f"l{index}", course_key)
    body = as_user(client, staff).get(detail_url(course_key), {"page_size": 50}).json()
    assert [entry["username"] for entry in body["results"]] == ["l0", "l1"]
    assert body["pagination"]["count"] == 5 and body["pagination"]["num_pages"] == 3
    page3 = client.get(detail_url(course_key), {"page_size": 50, "page": 3}).json()
    assert [entry["username"] for entry in page3["results"]] == ["l4"]


@pytest.mark.parametrize("learners", [3, 6])
def test_staff_list_costs_a_fixed_number_of_queries(client, course, staff, learners, django_assert_num_queries):
    course_key, leaves = course
    users = [learner(f"l{index}", course_key) for index in range(learners)]
    for user in users[::2]:  # some with stored rows, some who never started
        store(user, course_key, leaves[:3])
    as_user(client, staff)
    client.get(detail_url(course_key))  # warm the structure cache as a running server would
    # course exists, count, page of users, their rows, structure head, role holders.
    with django_assert_num_queries(6):
        response = client.get(detail_url(course_key), {"requested_fields": "chapter,sequential,vertical"})
    assert len(response.json()["results"]) == learners


# Course staff -----------------------------------------------------------------------------


def test_course_staff_have_staff_powers_on_their_course_only(client, course):
    course_key, leaves = course
    other_key, _ = build_course("course-v1:edX+Other+2026", shape=(1, 1, 1, 2))
    teacher = learner("teacher")
    make_course_staff(teacher, course_key, role="instructor")
    sam = learner("sam", course_key)
    learner("pat", other_key)
    store(sam, course_key, leaves[:2])
    as_user(client, teacher)
    listing = client.get(detail_url(course_key))
    assert listing.status_code == 200
    assert [entry["username"] for entry in listing.json()["results"]] == ["sam"]
    assert client.get(detail_url(course_key), {"username": "sam"}).status_code == 200
    assert client.get(detail_url(other_key), {"username": "pat"}).status_code == 403
    # Without username on another course they are just a (not enrolled) learner.
    assert client.get(detail_url(other_key)).status_code == 404


def test_org_wide_course_staff(client, course):
    course_key, _leaves = course
    from completion_aggregator.standalone.models import CourseAccessRole

    teacher = learner("teacher")
    CourseAccessRole.objects.create(user=teacher, org=course_key.org, role="staff")
    learner("sam", course_key)
    response = as_user(client, teacher).get(detail_url(course_key), {"username": "sam"})
    assert response.status_code == 200


def test_staff_listing_of_an_unknown_course_gets_404(client, staff):
    response = as_user(client, staff).get(detail_url("course-v1:edX+Nowhere+2026"))
    assert response.status_code == 404


def test_requested_fields_locked_adds_zero_figures_where_the_host_locks_nothing(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])
    (entry,) = as_user(client, alex).get(detail_url(course_key), {"requested_fields": "locked"}).json()["results"]
    assert entry["locked"] == {"earned": 0.0, "possible": 0.0, "percent": 1.0}
    assert entry["completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25}
