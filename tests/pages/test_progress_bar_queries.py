"""
The queries of a progress bar page, pinned (issue 21, point 6).

Each page is asked twice and the second answer counted (the compiled graph cleared between
them, the session and the user read as for any logged-in page). The tables read name the
queries: one enrollment check per page, then the learner's structure, roles, pending work
and stored rows.
"""
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from completion_aggregator import api
from tests.helpers import learner
from tests.rest_api.conftest import store

from .conftest import bar_url, logged_in

pytestmark = pytest.mark.django_db

SESSION = ["django_session", "auth_user"]
ENROLLED = [*SESSION, "enrollment", "coursestructure", "courseaccessrole", "stalecompletion", "aggregator"]


def _tables(client, url):
    client.get(url)
    api.clear_graph_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    tables = []
    for query in queries.captured_queries:
        table = re.search(r'FROM ["`]([a-z_]+)["`]', query["sql"]).group(1)  # SQLite and PostgreSQL quote with ", MySQL with `
        tables.append(table.removeprefix("completion_aggregator_").removeprefix("standalone_"))
    return tables


@pytest.fixture
def alex(course):
    course_key, leaves = course
    user = learner("alex", course_key)
    store(user, course_key, leaves[:5])
    return user


def test_the_course_bar_reads_the_enrollment_once(browser, course, alex):
    course_key, _leaves = course
    assert _tables(logged_in(browser, alex), bar_url(course_key)) == ENROLLED


def test_the_chapter_bar_reads_the_enrollment_once(browser, course, alex):
    course_key, _leaves = course
    # + the structure again, for the chapter's display name (api.get_block_display_names).
    assert _tables(logged_in(browser, alex), bar_url(course_key, "ch0")) == [*ENROLLED, "coursestructure"]


def test_a_learner_who_is_not_enrolled_is_read_once(browser, course):
    course_key, _leaves = course
    bob = get_user_model().objects.create(username="bob")
    client = logged_in(browser, bob)
    # Not enrolled: the course exists, so the bar shows 0 % without reading any row.
    assert _tables(client, bar_url(course_key)) == [*SESSION, "enrollment", "coursestructure"]
