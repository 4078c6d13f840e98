"""
Whole response documents, key for key, in the shapes of the API contract
(``docs/rest_api.rst``): every test compares the complete JSON body, the
pagination envelope included, so that an extra, missing or renamed key fails.

The fixture course has 2 chapters, each with 1 sequential, 1 vertical and 2 html leaves
(4 leaves). alex completed 3 leaves (chapter 0, and half of chapter 1), sam 1, kim none.
"""
import pytest

from tests.helpers import build_course, learner

from .conftest import V0, V1, as_user, detail_url, stats_url, store

pytestmark = pytest.mark.django_db

COURSE = "course-v1:edX+Shape+2026"
OTHER = "course-v1:AAA+Shape+2026"
SINGLE_PAGE = {"next": None, "previous": None, "count": 1, "num_pages": 1}


def block(block_type, block_id, course=COURSE):
    return f"block-v1:{course[len('course-v1:'):]}+type@{block_type}+block@{block_id}"


def completion(earned, possible, v0=False):
    value = {"earned": earned, "possible": possible, "percent": earned / possible if possible else 1.0}
    if v0:
        value["ratio"] = value["percent"]
    return value


def chapter_entries(earned0, earned1, v0=False):
    return [
        {"course_key": COURSE, "block_key": block("chapter", "ch0"), "completion": completion(earned0, 2.0, v0)},
        {"course_key": COURSE, "block_key": block("chapter", "ch1"), "completion": completion(earned1, 2.0, v0)},
    ]


@pytest.fixture
def people():
    course_key, leaves = build_course(COURSE, shape=(2, 1, 1, 2))
    other_key, _ = build_course(OTHER, shape=(1, 1, 1, 2))
    alex, sam, kim = (learner(name, course_key) for name in ("alex", "sam", "kim"))
    from completion_aggregator.standalone.models import Enrollment

    Enrollment.objects.create(user=alex, course_key=other_key)
    store(alex, course_key, leaves[:3])
    store(sam, course_key, leaves[:1])
    return alex, sam, kim


@pytest.fixture
def admin():
    return learner("admin", is_staff=True)


MEAN = (0.75 + 0.25 + 0.0) / 3


def test_v1_list(client, people):
    alex, _sam, _kim = people
    as_user(client, alex)
    assert client.get(f"{V1}/course/").json() == {
        "pagination": {"next": None, "previous": None, "count": 2, "num_pages": 1},
        "results": [
            {"course_key": OTHER, "completion": completion(0.0, 2.0)},
            {"course_key": COURSE, "completion": completion(3.0, 4.0)},
        ],
    }
    assert client.get(f"{V1}/course/", {"page_size": 1, "page": 2, "requested_fields": "username,mean"}).json() == {
        "pagination": {
            "next": None,
            "previous": "http://testserver/completion-aggregator/v1/course/?page_size=1&requested_fields=username%2Cmean",
            "count": 2,
            "num_pages": 2,
        },
        "results": [{"course_key": COURSE, "completion": completion(3.0, 4.0), "username": "alex", "mean": MEAN}],
    }


def test_v1_detail_single_learner_with_chapter_mean_username(client, people):
    alex, _sam, _kim = people
    response = as_user(client, alex).get(detail_url(COURSE), {"requested_fields": "chapter,mean,username"})
    assert response.json() == {
        "pagination": SINGLE_PAGE,
        "results": [
            {
                "course_key": COURSE,
                "completion": completion(3.0, 4.0),
                "username": "alex",
                "mean": MEAN,
                "chapter": chapter_entries(2.0, 1.0),
            }
        ],
    }


def test_v1_detail_staff_list(client, people, admin):
    response = as_user(client, admin).get(detail_url(COURSE), {"requested_fields": "chapter"})
    assert response.json() == {
        "pagination": {"next": None, "previous": None, "count": 3, "num_pages": 1},
        "results": [
            {"course_key": COURSE, "completion": completion(3.0, 4.0), "username": "alex", "chapter": chapter_entries(2.0, 1.0)},
            {"course_key": COURSE, "completion": completion(1.0, 4.0), "username": "sam", "chapter": chapter_entries(1.0, 0.0)},
            {"course_key": COURSE, "completion": completion(0.0, 4.0), "username": "kim", "chapter": chapter_entries(0.0, 0.0)},
        ],
    }


def test_v1_detail_staff_list_post_with_user_ids(client, people, admin):
    alex, _sam, kim = people
    body = {"user_ids": [kim.pk, alex.pk], "requested_fields": ["mean"]}
    assert as_user(client, admin).post(detail_url(COURSE), body, format="json").json() == {
        "pagination": {"next": None, "previous": None, "count": 2, "num_pages": 1},
        "results": [
            {"course_key": COURSE, "completion": completion(3.0, 4.0), "username": "alex", "mean": MEAN},
            {"course_key": COURSE, "completion": completion(0.0, 4.0), "username": "kim", "mean": MEAN},
        ],
    }


def test_v1_stats_with_chapter_and_mean(client, people, admin):
    response = as_user(client, admin).get(stats_url(COURSE), {"requested_fields": "chapter,mean"})
    assert response.json() == {
        "results": [
            {
                "course_key": COURSE,
                "mean_completion": completion(4.0 / 3, 4.0),
                "mean": MEAN,
                "chapter": [
                    {
                        "block_key": block("chapter", "ch0"),
                        "mean_completion": completion(3.0 / 3, 2.0),
                        "completed_count": 1,
                    },
                    {
                        "block_key": block("chapter", "ch1"),
                        "mean_completion": completion(1.0 / 3, 2.0),
                        "completed_count": 0,
                    },
                ],
            }
        ]
    }


def test_v0_list(client, people):
    alex, _sam, _kim = people
    response = as_user(client, alex).get(f"{V0}/course/", {"requested_fields": "chapter"})
    assert response.json() == {
        "pagination": {"next": None, "previous": None, "count": 2, "num_pages": 1},
        "results": [
            {
                "course_key": OTHER,
                "completion": completion(0.0, 2.0, v0=True),
                "chapter": [
                    {
                        "course_key": OTHER,
                        "block_key": block("chapter", "ch0", OTHER),
                        "completion": completion(0.0, 2.0, v0=True),
                    }
                ],
            },
            {"course_key": COURSE, "completion": completion(3.0, 4.0, v0=True), "chapter": chapter_entries(2.0, 1.0, v0=True)},
        ],
    }


def test_v0_detail_is_bare(client, people):
    _alex, sam, _kim = people
    response = as_user(client, sam).get(detail_url(COURSE, V0), {"requested_fields": "chapter,username,mean"})
    assert response.json() == {
        "course_key": COURSE,
        "completion": completion(1.0, 4.0, v0=True),
        "username": "sam",
        "mean": MEAN,
        "chapter": chapter_entries(1.0, 0.0, v0=True),
    }


def test_v0_detail_for_staff_without_username_is_their_own_bare_entry(client, people, admin):
    # v0 defaults to the requesting user, staff included: admin is not enrolled.
    response = as_user(client, admin).get(detail_url(COURSE, V0), {"page_size": 2, "page": 2})
    assert response.status_code == 404
    assert response.json() == {"detail": f"User 'admin' is not enrolled in course '{COURSE}'."}


def test_v0_block_completion(client, people):
    _alex, _sam, kim = people
    leaf = block("html", "ch1_se0_ve0_ht1")
    response = as_user(client, kim).post(f"{V0}/course/{COURSE}/blocks/{leaf}/", {"completion": 0.5}, format="json")
    assert response.status_code == 201
    assert response.json() == {"course_key": COURSE, "block_key": leaf, "completion": 0.5}


# include_optional=true ---------------------------------------------------------------------

OPTIONAL = "course-v1:edX+Optional+2026"


@pytest.fixture
def optional_course():
    """One chapter, one sequential, one vertical, two html leaves; the second is optional."""
    course_key, leaves = build_course(OPTIONAL, shape=(1, 1, 1, 2), extra={"ch0_se0_ve0_ht1": {"optional_completion": True}})
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[1:])  # only the optional leaf
    return alex


def optional_entry(v0=False):
    chapter = {
        "course_key": OPTIONAL,
        "block_key": block("chapter", "ch0", OPTIONAL),
        "completion": completion(0.0, 1.0, v0),
        "optional_completion": completion(1.0, 1.0, v0),
    }
    return {
        "course_key": OPTIONAL,
        "completion": completion(0.0, 1.0, v0),
        "optional_completion": completion(1.0, 1.0, v0),
        "chapter": [chapter],
    }


@pytest.mark.parametrize("version", [V1, V0])
def test_include_optional_on_lists(client, optional_course, version):
    params = {"requested_fields": "chapter", "include_optional": "True"}
    assert as_user(client, optional_course).get(f"{version}/course/", params).json() == {
        "pagination": SINGLE_PAGE,
        "results": [optional_entry(v0=version == V0)],
    }


def test_include_optional_on_details(client, optional_course):
    params = {"requested_fields": "chapter", "include_optional": "true"}
    as_user(client, optional_course)
    assert client.get(detail_url(OPTIONAL), params).json() == {"pagination": SINGLE_PAGE, "results": [optional_entry()]}
    assert client.get(detail_url(OPTIONAL, V0), params).json() == optional_entry(v0=True)
    body = {"requested_fields": ["chapter"], "include_optional": True}
    assert client.post(detail_url(OPTIONAL), body, format="json").json() == {
        "pagination": SINGLE_PAGE,
        "results": [optional_entry()],
    }
