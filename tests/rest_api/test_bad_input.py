"""
Every "Bad input" case of the REST API: a 4xx whose message names the bad value, never a
500, and nothing written by a refused POST.
"""
import pytest
from completion.models import BlockCompletion
from django.test.utils import override_settings

from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import learner

from .conftest import V0, V1, as_user, detail_url, stats_url, store

pytestmark = pytest.mark.django_db

COURSE = "course-v1:edX+Agg+2026"


@pytest.fixture
def alex(course):
    course_key, leaves = course
    user = learner("alex", course_key)
    store(user, course_key, leaves[:2])
    return user


@pytest.fixture
def admin(alex):
    return learner("admin", is_staff=True)


def snapshot():
    """Everything a request could write."""
    return (
        sorted(BlockCompletion.objects.values_list("user_id", "block_key", "completion")),
        sorted(Aggregator.objects.values_list("user_id", "block_key", "earned", "possible", "modified")),
        sorted(StaleCompletion.objects.values_list("id", "resolved")),
    )


def blocks_url(course_key, block_key):
    return f"{V0}/course/{course_key}/blocks/{block_key}/"


# Keys -----------------------------------------------------------------------------------


BLOCK = "block-v1:edX+Agg+2026+type@html+block@ch0_se0_ve0_ht0"


@pytest.mark.parametrize("key", ["nope", "course-v1:", "course-v1:edX+Agg", "x:y"])
@pytest.mark.parametrize(
    "method,url,data",
    [
        ("get", "{V1}/course/{key}/", {}),
        ("post", "{V1}/course/{key}/", {}),
        ("get", "{V0}/course/{key}/", {}),
        ("get", "{V1}/stats/{key}/", {}),
        ("post", "{V0}/course/{key}/blocks/{block}/", {"completion": 1.0}),
    ],
)
def test_invalid_course_key_gets_404_naming_it(client, admin, key, method, url, data):
    before = snapshot()
    url = url.format(V1=V1, V0=V0, key=key, block=BLOCK)
    response = getattr(as_user(client, admin), method)(url, data, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Invalid course key: '{key}'."}
    assert snapshot() == before


@pytest.mark.parametrize("block_key", ["nope", "block-v1:edX+Agg+2026", "i4x:bad"])
def test_invalid_block_key_gets_404_naming_it(client, alex, block_key):
    before = snapshot()
    response = as_user(client, alex).post(blocks_url(COURSE, block_key), {"completion": 1.0}, format="json")
    assert response.status_code == 404
    assert f"'{block_key}'" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "root_block",
    ["nope", "block-v1:edX+Agg+2026+type@chapter+block@missing", "block-v1:edX+Other+2026+type@chapter+block@ch0"],
)
@pytest.mark.parametrize("who", ["alex", "admin"])
def test_invalid_root_block_gets_404_naming_it(client, admin, method, root_block, who):
    user = admin if who == "admin" else admin.__class__.objects.get(username="alex")
    before = snapshot()
    response = getattr(as_user(client, user), method)(detail_url(COURSE), {"root_block": root_block}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"Invalid root_block: '{root_block}'")
    assert snapshot() == before


# requested_fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url,who",
    [
        (method, url, who)
        for method, url in [
            ("get", f"{V1}/course/"),
            ("get", detail_url(COURSE)),
            ("post", detail_url(COURSE)),
            ("get", f"{V0}/course/"),
            ("get", detail_url(COURSE, V0)),
        ]
        for who in ("alex", "admin")
    ]
    + [("get", stats_url(COURSE), "admin")],
)
def test_invalid_requested_fields_get_400_naming_the_invalid_values(client, admin, method, url, who):
    user = admin if who == "admin" else admin.__class__.objects.get(username="alex")
    raw = "chapter,bogus,course" if method == "get" else ["chapter", "bogus", "course"]
    response = getattr(as_user(client, user), method)(url, {"requested_fields": raw}, format="json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Invalid requested_fields: 'bogus', 'course'.")
    assert "'chapter'" not in detail.split(".")[0]


@pytest.mark.parametrize("raw", [5, {"a": 1}, [["chapter"]], [None], True])
def test_requested_fields_of_the_wrong_type_in_a_post_get_400(client, admin, raw):
    response = as_user(client, admin).post(detail_url(COURSE), {"requested_fields": raw}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid requested_fields")


# user_ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1,abc", "x", "1;2", "-1", "1.5e3", "0x10", "1, two"])
def test_non_integer_user_ids_in_a_get_get_400(client, admin, raw):
    response = as_user(client, admin).get(detail_url(COURSE), {"user_ids": raw})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid user_ids:")


@pytest.mark.parametrize("raw", [["abc"], [1, "two"], [1.5], [True], [[1]], [None], {"id": 1}, "abc", 1.5, True, -3, [-3]])
def test_non_integer_user_ids_in_a_post_get_400(client, admin, raw):
    before = snapshot()
    response = as_user(client, admin).post(detail_url(COURSE), {"user_ids": raw}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("Invalid user_ids:")
    assert snapshot() == before


# Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "-1", "2", "99999999999999999999999", "1.5", "abc"])
@pytest.mark.parametrize(
    "url,who",
    [
        (f"{V1}/course/", "alex"),
        (detail_url(COURSE), "alex"),  # a single learner: one page of one entry
        (detail_url(COURSE), "admin"),
        (f"{V0}/course/", "alex"),
    ],
)
def test_a_page_out_of_range_gets_404(client, admin, page, url, who):
    user = admin if who == "admin" else admin.__class__.objects.get(username="alex")
    response = as_user(client, user).get(url, {"page": page})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("page_size", ["99999999999999999999999", "1001", "0", "-5", "abc", "1.5"])
def test_any_page_size_is_served_within_the_cap(client, course, admin, page_size):
    course_key, _leaves = course
    for index in range(3):
        learner(f"l{index}", course_key)
    body = as_user(client, admin).get(detail_url(COURSE), {"page_size": page_size}).json()
    # Invalid sizes fall back to the default page size (10), huge ones to the cap (1000).
    assert body["pagination"] == {"next": None, "previous": None, "count": 4, "num_pages": 1}
    assert len(body["results"]) == 4


@override_settings(COMPLETION_AGGREGATOR_MAX_PAGE_SIZE=2)
def test_a_huge_page_size_is_served_at_the_cap(client, course, admin):
    course_key, _leaves = course
    learner("kim", course_key)
    learner("sam", course_key)
    body = as_user(client, admin).get(detail_url(COURSE), {"page_size": "99999999999999999999999"}).json()
    assert len(body["results"]) == 2
    assert body["pagination"]["count"] == 3 and body["pagination"]["num_pages"] == 2


# POST bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["{not json", "[1, 2", "\x00", '{"username": NaN}'])
@pytest.mark.parametrize("url", [detail_url(COURSE), blocks_url(COURSE, "block-v1:edX+Agg+2026+type@html+block@ch0_se0_ve0_ht0")])
def test_a_body_that_is_not_json_gets_400(client, alex, body, url):
    before = snapshot()
    response = as_user(client, alex).post(url, body, content_type="application/json")
    assert response.status_code == 400
    # The block POST parses NaN (to refuse it naming the range): there the body lacks a completion.
    assert response.json()["detail"].startswith(("JSON parse error", "Invalid completion"))
    assert snapshot() == before


@pytest.mark.parametrize("body", ["[]", '"text"', "1", "null", '["username"]'])
def test_a_detail_body_that_is_not_an_object_gets_400(client, alex, body):
    response = as_user(client, alex).post(detail_url(COURSE), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body must be a JSON object."}


@pytest.mark.parametrize(
    "body,name",
    [
        ({"username": 5}, "username"),
        ({"username": ["alex"]}, "username"),
        ({"include_optional": 1}, "include_optional"),
        ({"include_optional": [True]}, "include_optional"),
    ],
)
def test_detail_parameters_of_the_wrong_type_get_400(client, alex, body, name):
    before = snapshot()
    response = as_user(client, alex).post(detail_url(COURSE), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"Invalid {name}")
    assert snapshot() == before


LEAF = "block-v1:edX+Agg+2026+type@html+block@ch1_se1_ve1_ht1"


@pytest.mark.parametrize(
    "body",
    [
        '{"completion": 1.0000001}',
        '{"completion": -0.0001}',
        '{"completion": 2}',
        '{"completion": 1e400}',
        '{"completion": -1e400}',
        '{"completion": NaN}',
        '{"completion": Infinity}',
        '{"completion": "one"}',
        '{"completion": null}',
        '{"completion": true}',
        '{"completion": [0.5]}',
        '{"completion": {"value": 0.5}}',
        '{"value": 0.5}',
        "{}",
        "[0.5]",
        "0.5",
        "null",
    ],
)
def test_a_completion_outside_0_1_or_not_a_number_gets_400_and_writes_nothing(client, alex, body):
    before = snapshot()
    response = as_user(client, alex).post(blocks_url(COURSE, LEAF), body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Invalid completion") or detail.startswith("JSON parse error")
    assert snapshot() == before


@pytest.mark.parametrize("value", [0, 0.0, 1, 1.0, 0.5])
def test_the_bounds_are_accepted(client, alex, value):
    response = as_user(client, alex).post(blocks_url(COURSE, LEAF), {"completion": value}, format="json")
    assert response.status_code == 201
    assert BlockCompletion.objects.get(user=alex, block_key=LEAF).completion == float(value)


def test_a_form_encoded_completion_is_accepted(client, alex):
    response = as_user(client, alex).post(blocks_url(COURSE, LEAF), {"completion": "0.5"})
    assert response.status_code == 201
    assert BlockCompletion.objects.get(user=alex, block_key=LEAF).completion == 0.5


# Who ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [("get", f"{V1}/course/"), ("get", detail_url(COURSE)), ("post", detail_url(COURSE)), ("get", f"{V0}/course/"), ("get", detail_url(COURSE, V0))],
)
def test_another_learners_data_gets_403(client, alex, course, method, url):
    learner("sam", course[0])
    before = snapshot()
    response = getattr(as_user(client, alex), method)(url, {"username": "sam"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not see the completion of user 'sam'."}
    assert snapshot() == before


@pytest.mark.parametrize(
    "method,url",
    [("get", f"{V1}/course/"), ("get", detail_url(COURSE)), ("post", detail_url(COURSE)), ("get", f"{V0}/course/"), ("get", detail_url(COURSE, V0))],
)
def test_an_unknown_username_asked_by_staff_gets_404(client, admin, method, url):
    response = getattr(as_user(client, admin), method)(url, {"username": "nobody"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown username: 'nobody'."}


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", f"{V1}/course/"),
        ("get", detail_url(COURSE)),
        ("post", detail_url(COURSE)),
        ("get", stats_url(COURSE)),
        ("get", f"{V0}/course/"),
        ("get", detail_url(COURSE, V0)),
        ("post", blocks_url(COURSE, LEAF)),
    ],
)
def test_anonymous_gets_401_and_writes_nothing(client, alex, method, url):
    before = snapshot()
    response = getattr(client, method)(url, {"completion": 1.0, "username": "alex"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert snapshot() == before
