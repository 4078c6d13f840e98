"""The course progress report page and its CSV (course staff and global staff)."""
import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from completion_aggregator import api
from completion_aggregator.adapters import get_adapter
from completion_aggregator.api import clear_graph_cache
from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.models import Enrollment
from tests.helpers import build_course, learner
from tests.rest_api.conftest import make_course_staff, stats_url, store

from .conftest import bar_url, csv_url, logged_in, report_url

pytestmark = pytest.mark.django_db


def histogram(html):
    return [int(count) for count in re.findall(r'data-bin-low="\d+" data-bin-high="\d+" data-count="(\d+)"', html)]


def chapter_means(html):
    return {
        key: float(mean)
        for key, mean in re.findall(r'<tr data-block-key="([^"]*type@chapter[^"]*)" data-mean="([\d.]+)"', html)
    }


def learner_rows(html):
    return re.findall(r'<tr data-username="([^"]+)" data-percent="([\d.]+)"', html)


def read_csv(response):
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def klass(course):
    """Five learners at 0, 25, 50, 75 and 100 % of the course, plus one never started."""
    course_key, leaves = course
    users = []
    for index in range(5):
        user = learner(f"learner{index}", course_key)
        store(user, course_key, leaves[: index * 4])
        users.append(user)
    users.append(learner("newcomer", course_key))
    return course_key, leaves, users


# Who may see it ------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login(browser, course):
    course_key, _leaves = course
    for url in (report_url(course_key), csv_url(course_key)):
        response = browser.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "role, status",
    [
        ("learner", 403),
        ("other_course_staff", 403),
        ("course_staff", 200),
        ("course_instructor", 200),
        ("org_staff", 200),
        ("global_staff", 200),
    ],
)
def test_auth_matrix(browser, klass, role, status):
    course_key, _leaves, users = klass
    if role == "learner":
        user = users[1]
    elif role == "global_staff":
        user = learner("admin", is_staff=True)
    else:
        user = learner("teacher")
        other_key, _ = build_course("course-v1:edX+Other+2026")
        if role == "other_course_staff":
            make_course_staff(user, other_key)
        elif role == "course_instructor":
            make_course_staff(user, course_key, role="instructor")
        elif role == "org_staff":
            from completion_aggregator.standalone.models import CourseAccessRole

            CourseAccessRole.objects.create(user=user, org=course_key.org, role="staff")
        else:
            make_course_staff(user, course_key)
    logged_in(browser, user)
    assert browser.get(report_url(course_key)).status_code == status
    assert browser.get(csv_url(course_key)).status_code == status
    # Nobody sees another learner's bar: the bar is always the viewer's own.
    own = browser.get(bar_url(course_key) + f"?username={users[4].get_username()}")
    assert own.status_code == 200 and 'aria-valuenow="100"' not in own.content.decode()


def test_invalid_and_unknown_course(browser):
    logged_in(browser, learner("admin", is_staff=True))
    assert browser.get(report_url("not-a-key")).status_code == 404
    assert browser.get(report_url("course-v1:No+Such+Course")).status_code == 404
    assert browser.get(csv_url("course-v1:No+Such+Course")).status_code == 404


# What it shows --------------------------------------------------------------------------


def test_report_matches_the_stats_endpoint(browser, klass):
    course_key, _leaves, users = klass
    admin = learner("admin", is_staff=True)
    response = logged_in(browser, admin).get(report_url(course_key))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    # 10 % bins: 0 % twice (learner0, newcomer), 25 %, 50 %, 75 %, and 100 % in the last bin.
    assert histogram(html) == [2, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert sum(histogram(html)) == len(users) == api.get_course_stats(course_key).learner_count
    api_client = APIClient()
    api_client.force_authenticate(admin)
    stats = api_client.get(stats_url(course_key), {"requested_fields": "chapter"}).json()["results"][0]
    expected = {entry["block_key"]: round(entry["mean_completion"]["percent"], 6) for entry in stats["chapter"]}
    assert chapter_means(html) == expected
    assert f'data-learners="{len(users)}"' in html
    mean = stats["mean_completion"]["percent"]
    assert f'data-mean="{mean:.6f}"' in html
    # Drill-down: each chapter lists its sequentials, readable without JavaScript (<details>).
    assert html.count("<details>") == 2
    for seq in ("ch0_se0", "ch0_se1", "ch1_se0", "ch1_se1"):
        assert f"type@sequential+block@{seq}" in html
    assert "<script" not in html


def test_learner_table_search_and_pages(browser, klass, settings):
    course_key, _leaves, users = klass
    settings.COMPLETION_AGGREGATOR_REPORT_PAGE_SIZE = 4
    logged_in(browser, learner("admin", is_staff=True))
    html = browser.get(report_url(course_key)).content.decode()
    assert [name for name, _ in learner_rows(html)] == ["learner0", "learner1", "learner2", "learner3"]
    assert 'rel="next" href="?page=2"' in html
    html = browser.get(report_url(course_key), {"page": 2}).content.decode()
    assert learner_rows(html) == [("learner4", "1.000000"), ("newcomer", "0.000000")]
    html = browser.get(report_url(course_key), {"q": "NEWCOM"}).content.decode()
    assert [name for name, _ in learner_rows(html)] == ["newcomer"]
    assert 'data-count="1"' in html
    html = browser.get(report_url(course_key), {"q": "learner2@example"}).content.decode()
    assert [name for name, _ in learner_rows(html)] == ["learner2"]


def test_csv_has_every_learner_course_and_chapter_percent(browser, klass, settings):
    course_key, _leaves, users = klass
    settings.COMPLETION_AGGREGATOR_REPORT_CSV_CHUNK_SIZE = 4  # two chunks
    staff_member = learner("teacher")
    make_course_staff(staff_member, course_key)
    response = logged_in(browser, staff_member).get(csv_url(course_key))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    rows = read_csv(response)
    assert rows[0] == ["username", "course_percent", "ch0 (ch0)", "ch1 (ch1)"]  # display_name (block_id)
    assert rows[1:] == [
        ["learner0", "0.00", "0.00", "0.00"],
        ["learner1", "25.00", "50.00", "0.00"],
        ["learner2", "50.00", "100.00", "0.00"],
        ["learner3", "75.00", "100.00", "50.00"],
        ["learner4", "100.00", "100.00", "100.00"],
        ["newcomer", "0.00", "0.00", "0.00"],
    ]


# Cost -----------------------------------------------------------------------------------


def bulk_learners(course_key, count, start=0):
    """``count`` enrolled learners with stored course and chapter rows, in a handful of queries."""
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"bulk{index:05d}", email=f"bulk{index:05d}@example.com") for index in range(start, start + count)],
        batch_size=500,
    )
    users = list(user_model.objects.filter(username__startswith="bulk").order_by("id")[start : start + count])
    Enrollment.objects.bulk_create([Enrollment(user=user, course_key=course_key) for user in users], batch_size=500)
    now = timezone.now()
    rows = []
    for position, user in enumerate(users):
        earned = float(position % 17)
        rows.append(
            Aggregator(
                user=user, course_key=course_key, aggregation_name="course",
                block_key=course_key.make_usage_key("course", "course"),
                earned=earned, possible=16.0, percent=earned / 16.0, last_modified=now,
            )
        )
        for chapter in ("ch0", "ch1"):
            part = min(earned, 8.0) if chapter == "ch0" else max(0.0, earned - 8.0)
            rows.append(
                Aggregator(
                    user=user, course_key=course_key, aggregation_name="chapter",
                    block_key=course_key.make_usage_key("chapter", chapter),
                    earned=part, possible=8.0, percent=part / 8.0, last_modified=now,
                )
            )
    Aggregator.objects.bulk_create(rows, batch_size=500)


def report_queries(client, course_key):
    get_adapter().clear_cache()
    clear_graph_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(report_url(course_key))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_report_query_count_does_not_grow_with_learners(browser, course):
    course_key, _leaves = course
    logged_in(browser, learner("admin", is_staff=True))
    bulk_learners(course_key, 10)
    few, html = report_queries(browser, course_key)
    assert sum(histogram(html)) == 10
    bulk_learners(course_key, 990, start=10)
    many, html = report_queries(browser, course_key)
    assert sum(histogram(html)) == 1000
    assert len(learner_rows(html)) == 50
    assert few == many
    # Pinned: session, user, staff check, stats (ids, representative, structure, block keys,
    # learners with rows, sums), histogram (ids, block keys, learners with rows, sums), outline,
    # display names (the structure version's head), learner page (count, users, rows, structure
    # for zeros).
    assert many <= 23, many


def test_csv_streams_in_chunks(browser, course, settings):
    course_key, _leaves = course
    settings.COMPLETION_AGGREGATOR_REPORT_CSV_CHUNK_SIZE = 100
    bulk_learners(course_key, 250)
    logged_in(browser, learner("admin", is_staff=True))
    response = browser.get(csv_url(course_key))
    lines = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        first = next(lines)  # the header: the outline was read before streaming started
    assert len(queries) == 0 and first.startswith(b"username,")
    with CaptureQueriesContext(connection) as queries:
        rows = [first, *lines]
    assert len(rows) == 251
    assert rows[-1].startswith(b"bulk00249,")
    # A fixed number of queries per chunk of 100 learners (3 chunks), none per learner.
    assert len(queries) <= 3 * 4, len(queries)
