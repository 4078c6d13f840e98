"""
Drop-in behaviour for clients written against the peer (issue 17): each test failed before its fix.

* point 1: the v0 detail defaults to the requesting user, staff included;
* point 3: the v0 block POST accepts what forms send, and old-Mongo ``i4x://`` block keys;
* point 4: with ``root_block`` the entry's ``completion`` stays the course's;
* point 5: a deleted course answers from its stored rows; every 404 names its real cause.
"""
import pytest
from completion.models import BlockCompletion
from django.core.cache import cache

from completion_aggregator.adapters import get_adapter
from completion_aggregator.standalone.models import CourseStructure
from tests.helpers import build_course, learner

from .conftest import V0, V1, as_user, detail_url, make_course_staff, store

pytestmark = pytest.mark.django_db


def blocks_url(course_key, block_key):
    return f"{V0}/course/{course_key}/blocks/{block_key}/"


def delete_course(course_key):
    """The course is deleted from the host (its structure is gone); its stored rows stay."""
    CourseStructure.objects.filter(course__course_key=course_key).delete()
    get_adapter().clear_cache()
    cache.clear()


# Point 1: v0 detail defaults to the requesting user ---------------------------------------


@pytest.mark.parametrize("role", ["global", "course", "instructor", "org"])
def test_v0_detail_without_username_is_the_requesting_staff_users_bare_entry(client, course, role):
    course_key, leaves = course
    boss = learner("boss", course_key, is_staff=(role == "global"))
    if role in ("course", "instructor"):
        make_course_staff(boss, course_key, "staff" if role == "course" else "instructor")
    if role == "org":
        from completion_aggregator.standalone.models import CourseAccessRole

        CourseAccessRole.objects.create(user=boss, org=course_key.org, role="staff")
    store(boss, course_key, leaves[:4])
    learner("alex", course_key)
    body = as_user(client, boss).get(detail_url(course_key, V0)).json()
    assert "pagination" not in body and "results" not in body
    assert body == {
        "course_key": str(course_key),
        "completion": {"earned": 4.0, "possible": 16.0, "percent": 0.25, "ratio": 0.25},
    }
    # v1 still lists every learner for staff.
    listing = client.get(detail_url(course_key)).json()
    assert listing["pagination"]["count"] == 2


def test_v0_detail_for_staff_not_enrolled_is_404_not_enrolled(client, course, staff):
    course_key, _leaves = course
    learner("alex", course_key)
    response = as_user(client, staff).get(detail_url(course_key, V0))
    assert response.status_code == 404
    assert response.json()["detail"] == f"User 'admin' is not enrolled in course '{course_key}'."


def test_v0_detail_staff_may_still_name_a_learner(client, course, staff):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:8])
    body = as_user(client, staff).get(detail_url(course_key, V0), {"username": "alex"}).json()
    assert body["completion"]["ratio"] == 0.5


# Point 3: v0 block POST -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, fmt, expected",
    [
        ("0.75", "json", 0.75),
        (" 1 ", "json", 1.0),
        ("0.75", "form", 0.75),
        ("0", "multipart", 0.0),
        ("1.0", "multipart", 1.0),
        (".5", "form", 0.5),
        ("5e-1", "form", 0.5),
        (0.25, "json", 0.25),
        (1, "json", 1.0),
    ],
)
def test_block_post_accepts_numbers_and_numeric_strings(client, course, value, fmt, expected):
    course_key, leaves = course
    alex = learner("alex", course_key)
    as_user(client, alex)
    url = blocks_url(course_key, leaves[0])
    if fmt == "form":
        response = client.post(url, f"completion={value}", content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(url, {"completion": value}, format=fmt)
    assert response.status_code == 201, response.content
    assert response.json() == {"course_key": str(course_key), "block_key": str(leaves[0]), "completion": expected}
    assert BlockCompletion.objects.get(user=alex, block_key=leaves[0]).completion == expected


@pytest.mark.parametrize(
    "body, fmt",
    [
        ('{"completion": NaN}', "raw"),
        ('{"completion": Infinity}', "raw"),
        ('{"completion": -Infinity}', "raw"),
        ('{"completion": 1e999}', "raw"),
        ({"completion": "NaN"}, "json"),
        ({"completion": "inf"}, "json"),
        ({"completion": "1e999"}, "json"),
        ({"completion": True}, "json"),
        ({"completion": False}, "json"),
        ({"completion": "true"}, "json"),
        ({"completion": 1.5}, "json"),
        ({"completion": -0.01}, "json"),
        ({"completion": "2"}, "json"),
        ({"completion": "0x1"}, "json"),
        ({"completion": "0_5"}, "json"),
        ({"completion": ""}, "json"),
        ({"completion": None}, "json"),
        ({"completion": [0.5]}, "json"),
        ({}, "json"),
        ("completion=nan", "form"),
        ("completion=1.01", "form"),
        ("completion=", "form"),
        ({"completion": "infinity"}, "multipart"),
    ],
)
def test_block_post_refuses_what_is_not_a_number_in_range_naming_the_range(client, course, body, fmt):
    course_key, leaves = course
    alex = learner("alex", course_key)
    as_user(client, alex)
    url = blocks_url(course_key, leaves[0])
    if fmt == "raw":
        response = client.post(url, body, content_type="application/json")
    elif fmt == "form":
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(url, body, format=fmt)
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail.startswith("Invalid completion") and "between 0.0 and 1.0" in detail
    assert not BlockCompletion.objects.exists()


OLD_COURSE = "OldOrg/Old101/2014"


@pytest.fixture
def old_course():
    return build_course(OLD_COURSE, shape=(1, 1, 1, 2))


def test_block_post_takes_an_old_mongo_block_key_for_an_old_style_course(client, old_course):
    course_key, leaves = old_course
    alex = learner("alex", course_key)
    as_user(client, alex)
    leaf_id = leaves[0].block_id
    url = blocks_url(course_key, f"i4x://OldOrg/Old101/html/{leaf_id}")
    response = client.post(url, {"completion": "1.0"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["block_key"] == f"i4x://OldOrg/Old101/html/{leaf_id}"
    completion = BlockCompletion.objects.get(user=alex)
    assert completion.full_block_key == leaves[0]  # the run comes from the course key
    assert completion.full_block_key.run == "2014"
    # A proxy that merges slashes (``i4x:/``) reaches the same block.
    merged = client.post(blocks_url(course_key, f"i4x:/OldOrg/Old101/html/{leaf_id}"), {"completion": 0.5}, format="json")
    assert merged.status_code == 200, merged.content
    assert BlockCompletion.objects.get(user=alex).completion == 0.5


def test_an_old_mongo_block_key_of_another_course_is_404(client, old_course):
    course_key, leaves = old_course
    alex = learner("alex", course_key)
    as_user(client, alex)
    response = client.post(blocks_url(course_key, f"i4x://Other/Old101/html/{leaves[0].block_id}"), {"completion": 1}, format="json")
    assert response.status_code == 404
    assert "is not in course" in response.json()["detail"]
    missing = client.post(blocks_url(course_key, "i4x://OldOrg/Old101/html/nope"), {"completion": 1}, format="json")
    assert missing.status_code == 404
    assert not BlockCompletion.objects.exists()


# Point 4: root_block keeps completion the course's --------------------------------------------


def test_root_block_keeps_the_course_completion(client, course, staff):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])  # 2/16 course; chapter ch0 2/8
    chapter = course_key.make_usage_key("chapter", "ch0")
    params = {"root_block": str(chapter), "requested_fields": "chapter,sequential"}
    body = as_user(client, alex).get(detail_url(course_key), params).json()
    entry = body["results"][0]
    assert entry["completion"] == {"earned": 2.0, "possible": 16.0, "percent": 0.125}
    assert [block["block_key"] for block in entry["chapter"]] == [str(chapter)]
    assert entry["chapter"][0]["completion"] == {"earned": 2.0, "possible": 8.0, "percent": 0.25}
    assert len(entry["sequential"]) == 2
    # The staff listing says the same.
    listing = as_user(client, staff).get(detail_url(course_key), params).json()["results"][0]
    assert listing["completion"] == entry["completion"]
    assert listing["chapter"] == entry["chapter"]


# Point 5: deleted courses, 404 causes ---------------------------------------------------------


def test_a_deleted_course_answers_from_its_stored_rows(client, course, staff):
    course_key, leaves = course
    alex = learner("alex", course_key)
    kim = learner("kim", course_key)
    store(alex, course_key, leaves[:4])
    delete_course(course_key)
    # The learner, v1 and v0, detail and list.
    as_user(client, alex)
    v1 = client.get(detail_url(course_key), {"requested_fields": "chapter"})
    assert v1.status_code == 200, v1.content
    entry = v1.json()["results"][0]
    assert entry["completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25}
    assert [block["completion"]["earned"] for block in entry["chapter"]] == [4.0, 0.0]
    assert client.get(detail_url(course_key, V0)).json()["completion"]["ratio"] == 0.25
    assert [item["course_key"] for item in client.get(f"{V1}/course/").json()["results"]] == [str(course_key)]
    # A learner without rows: nothing earned of the course's last known size.
    kim_entry = as_user(client, kim).get(detail_url(course_key, V0)).json()
    assert kim_entry["completion"] == {"earned": 0.0, "possible": 16.0, "percent": 0.0, "ratio": 0.0}
    # Staff: the listing.
    listing = as_user(client, staff).get(detail_url(course_key))
    assert listing.status_code == 200
    assert [(item["username"], item["completion"]["earned"]) for item in listing.json()["results"]] == [
        ("alex", 4.0),
        ("kim", 0.0),
    ]
    assert client.get(detail_url(course_key), {"username": "alex"}).json()["results"][0]["completion"]["earned"] == 4.0
    # requested_fields=locked too: nothing is known to be locked any more (0/0), never a 404.
    no_locked = {"earned": 0.0, "possible": 0.0, "percent": 1.0}
    locked_listing = client.get(detail_url(course_key), {"requested_fields": "locked"})
    assert locked_listing.status_code == 200, locked_listing.content
    assert [item["locked"] for item in locked_listing.json()["results"]] == [no_locked, no_locked]
    as_user(client, alex)
    (mine,) = client.get(detail_url(course_key), {"requested_fields": "locked"}).json()["results"]
    assert mine["locked"] == no_locked
    (listed,) = client.get(f"{V1}/course/", {"requested_fields": "locked"}).json()["results"]
    assert listed["locked"] == no_locked


def test_404s_name_their_real_cause(client, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:1])
    stranger = learner("stranger")
    unknown = "course-v1:No+Such+Course"
    as_user(client, stranger)
    for url in (detail_url(unknown), detail_url(unknown, V0)):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["detail"] == f"Course not found: '{unknown}'."
    response = client.get(detail_url(course_key))
    assert response.json()["detail"] == f"User 'stranger' is not enrolled in course '{course_key}'."
    # A deleted course (rows remain) is still a course: "not enrolled" to a stranger ...
    delete_course(course_key)
    assert client.get(detail_url(course_key)).json()["detail"] == f"User 'stranger' is not enrolled in course '{course_key}'."
    # ... and an enrolled learner is answered (no "not enrolled" any more).
    assert as_user(client, alex).get(detail_url(course_key)).status_code == 200
    # The block POST: course not found vs not enrolled.
    as_user(client, stranger)
    gone = client.post(blocks_url(unknown, course_key.make_usage_key("html", "x")), {"completion": 1}, format="json")
    assert gone.status_code == 404
    assert gone.json()["detail"] == f"Course not found: '{unknown}'."


def stats_of(client, course_key, **params):
    return client.get(f"{V1}/stats/{course_key}/", params)


@pytest.mark.parametrize("built", [False, True], ids=["from-rows", "kept-totals"])
def test_a_deleted_courses_statistics_answer_from_its_stored_rows(client, course, staff, built):
    from completion_aggregator.api import totals
    from completion_aggregator.models import Aggregator
    from completion_aggregator.standalone.models import Cohort, CohortMembership

    course_key, leaves = course
    alex, sam, kim = (learner(name, course_key) for name in ("alex", "sam", "kim"))
    store(alex, course_key, leaves[:8])  # all of chapter 0
    store(sam, course_key, leaves[:4])
    # sam's course row was written when the course was smaller: the course's last known size
    # is the largest stored course possible (16), which kim, without rows, is counted with.
    Aggregator.objects.filter(user=sam, course_key=course_key, aggregation_name="course").update(possible=12.0, percent=4 / 12)
    if built:
        totals.rebuild(course_key)
    delete_course(course_key)
    as_user(client, staff)
    response = stats_of(client, course_key, requested_fields="mean,chapter,sequential")
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert list(result) == ["course_key", "mean_completion", "mean", "chapter", "sequential"]
    assert result["course_key"] == str(course_key)
    assert result["mean_completion"] == {
        "earned": 4.0,
        "possible": pytest.approx((16 + 12 + 16) / 3),
        "percent": pytest.approx(4.0 / ((16 + 12 + 16) / 3)),
    }
    assert result["mean"] == pytest.approx((8 / 16 + 4 / 12 + 0.0) / 3)
    # Blocks by key (the course order is gone with the structure); kim counts with each
    # block's largest stored possible.
    chapter = course_key.make_usage_key
    assert result["chapter"] == [
        {
            "block_key": str(chapter("chapter", "ch0")),
            "mean_completion": {"earned": 4.0, "possible": 8.0, "percent": 0.5},
            "completed_count": 1,
        },
        {
            "block_key": str(chapter("chapter", "ch1")),
            "mean_completion": {"earned": 0.0, "possible": 8.0, "percent": 0.0},
            "completed_count": 0,
        },
    ]
    keys = [block["block_key"] for block in result["sequential"]]
    assert keys == sorted(keys) and len(keys) == 4
    assert [block["completed_count"] for block in result["sequential"]] == [2, 1, 0, 0]
    assert [block["mean_completion"]["possible"] for block in result["sequential"]] == [4.0] * 4
    # exclude_roles: alex is a beta tester; sam (4 of 12) and kim (0 of 16) remain.
    make_course_staff(alex, course_key, role="beta_testers")
    excluded = stats_of(client, course_key, exclude_roles="beta_testers").json()["results"][0]
    assert excluded["mean_completion"] == {"earned": 2.0, "possible": 14.0, "percent": pytest.approx(2.0 / 14.0)}
    # cohorts: only alex and kim.
    cohort = Cohort.objects.create(course_key=course_key, name="A")
    for user in (alex, kim):
        CohortMembership.objects.create(cohort=cohort, user=user, course_key=course_key)
    only = stats_of(client, course_key, cohorts=str(cohort.pk)).json()["results"][0]
    assert only["mean_completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25}
    # The same permission rules: course staff yes, a learner no.
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    assert stats_of(as_user(client, teacher), course_key).status_code == 200
    assert stats_of(as_user(client, sam), course_key).status_code == 403


def test_statistics_of_a_course_without_structure_or_rows_are_404(client, staff):
    course_key, _leaves = build_course("course-v1:edX+Gone+2026")
    learner("alex", course_key)  # enrolled, never started: no rows
    delete_course(course_key)
    response = stats_of(as_user(client, staff), course_key, requested_fields="chapter")
    assert response.status_code == 404
    assert response.json()["detail"] == f"Course not found: '{course_key}'."
    unknown = "course-v1:No+Such+Course"
    assert stats_of(client, unknown).json()["detail"] == f"Course not found: '{unknown}'."
