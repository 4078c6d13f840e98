"""
The staff course detail page (no ``username``) costs a fixed number of queries: the same for
10 learners on the page as for 1,000.

Learners are bulk-created (no signals fire, so no stale rows are written); a third of them get
stored course and chapter rows, the others have none (earned 0.0, the course's possible).
"""
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.models import Enrollment
from tests.helpers import build_course, learner

from .conftest import as_user, detail_url

pytestmark = pytest.mark.django_db

#: A fixed (MD5) hash: hashing a thousand passwords would dominate the test's time.
PASSWORD = "md5$fixedsalt$0a4e3b0d8a1c6f0e0b7d1e7b0c5a2f3d"

#: The queries of one staff page, measured: course exists, count of enrollments, the page of
#: users, their stored rows (one query for the whole page), the course structure's head (the
#: compiled graph is cached) and the course's role holders (the representative learner's view).
PAGE_QUERIES = 6
#: ``mean`` (not cached yet) of a course whose statistics totals are not built: role holders,
#: the totals' course row (absent), the learners' ids, the course rows' block keys (an
#: index-only scan), the learners with rows, the sum of every row's percent (a covering index).
MEAN_QUERIES = 6


def bulk_learners(course_key, count):
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"bulk{index:05d}", email=f"bulk{index}@example.com", password=PASSWORD) for index in range(count)]
    )
    users = list(user_model.objects.filter(username__startswith="bulk").order_by("id"))
    Enrollment.objects.bulk_create([Enrollment(user=user, course_key=course_key) for user in users])
    now = timezone.now()
    rows = []
    for user in users[::3]:
        rows.append(
            Aggregator(
                user=user, course_key=course_key, aggregation_name="course",
                block_key=course_key.make_usage_key("course", "course"),
                earned=4.0, possible=16.0, percent=0.25, last_modified=now,
            )
        )
        for chapter, earned in (("ch0", 4.0), ("ch1", 0.0)):
            rows.append(
                Aggregator(
                    user=user, course_key=course_key, aggregation_name="chapter",
                    block_key=course_key.make_usage_key("chapter", chapter),
                    earned=earned, possible=8.0, percent=earned / 8.0, last_modified=now,
                )
            )
    Aggregator.objects.bulk_create(rows)
    return users


@pytest.mark.parametrize("learners", [10, 1000])
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="plain"),
        pytest.param({"requested_fields": "chapter,sequential,vertical,mean"}, id="blocks-and-mean"),
    ],
)
def test_staff_page_costs_the_same_queries_for_10_and_1000_learners(
    client, learners, params, django_assert_num_queries
):
    course_key, _leaves = build_course()
    users = bulk_learners(course_key, learners)
    as_user(client, learner("admin", is_staff=True))
    client.get(detail_url(course_key))  # warm the structure cache, as a running server would
    expected = PAGE_QUERIES + (MEAN_QUERIES if "mean" in params.get("requested_fields", "") else 0)
    with django_assert_num_queries(expected):
        response = client.get(detail_url(course_key), {**params, "page_size": 1000})
    if params:  # the same through POST, with every learner's id in the body
        body = {"requested_fields": params["requested_fields"].split(","), "user_ids": [user.pk for user in users]}
        with django_assert_num_queries(PAGE_QUERIES):  # the mean is cached now
            posted = client.post(f"{detail_url(course_key)}?page_size=1000", body, format="json")
        assert posted.json() == response.json()
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"]["count"] == learners and body["pagination"]["num_pages"] == 1
    results = body["results"]
    assert [entry["username"] for entry in results] == [user.username for user in users]
    assert results[0]["completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25}
    assert results[1]["completion"] == {"earned": 0.0, "possible": 16.0, "percent": 0.0}
    if params:
        assert [block["completion"]["earned"] for block in results[0]["chapter"]] == [4.0, 0.0]
        assert [block["completion"]["earned"] for block in results[1]["chapter"]] == [0.0, 0.0]
        assert results[0]["mean"] == pytest.approx(0.25 * len(users[::3]) / learners)
