"""
Property-based fuzzing of every endpoint's path and query parameters (issue 18, point 2).

Hypothesis draws an endpoint (the v1 and v0 REST API, the progress bars, the instructors'
report and its CSV), a caller (a learner enrolled in a regular course and in one whose root
is not released yet, a learner enrolled nowhere, course staff, global staff, anonymous),
path parameters (real keys of both courses, keys of unknown courses, keys in other case,
deprecated keys, and ids that are not keys at all: any text, percent-encoded bytes including
invalid UTF-8, NUL and ``/``), query parameters (every name an endpoint reads, with real and
arbitrary values) and, for POSTs, JSON bodies (arbitrary JSON, deeply nested ones included).

The property: no answer is a 5xx and no exception escapes a view (Django's test client
re-raises it). Bounded: ``FUZZ_EXAMPLES`` examples (default 120, enough for ``make test``;
the fuzz tier of ``.ci/run`` runs ``make test-fuzz`` with more), no deadline per example.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from completion_aggregator.standalone.models import CourseAccessRole, Enrollment
from tests.helpers import build_course, learner

from .conftest import store

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
ROOT = "/completion-aggregator"
REGULAR = "course-v1:edX+Agg+2026"
UPCOMING = "course-v1:edX+Later+2026"

#: (method, path template): every route of completion_aggregator.urls but the schema pages.
ENDPOINTS = [
    ("get", "/v1/course/"),
    ("get", "/v1/course/{course_key}/"),
    ("post", "/v1/course/{course_key}/"),
    ("get", "/v1/stats/{course_key}/"),
    ("get", "/v0/course/"),
    ("get", "/v0/course/{course_key}/"),
    ("post", "/v0/course/{course_key}/blocks/{block_key}/"),
    ("get", "/progress_bar/{course_key}/"),
    ("get", "/progress_bar/{course_key}/{chapter_id}/"),
    ("get", "/report/{course_key}/"),
    ("get", "/report/{course_key}/csv/"),
]
#: Every query (or body) parameter some endpoint reads.
PARAMS = [
    "username", "requested_fields", "root_block", "user_ids", "include_optional", "mobile_only",
    "page", "page_size", "cohorts", "exclude_roles", "q", "completion",
]
USERS = ["alex", "nobody", "teacher", "admin", None]

REAL_COURSE_KEYS = [REGULAR, UPCOMING, "course-v1:edX+Unknown+2026", "course-v1:EDX+agg+2026", "edX/Agg/2026"]
REAL_BLOCK_KEYS = [
    "block-v1:edX+Agg+2026+type@html+block@ch0_se0_ve0_ht0",
    "block-v1:edX+Agg+2026+type@chapter+block@ch1",
    "block-v1:edX+Agg+2026+type@course+block@course",
    "block-v1:edX+Later+2026+type@html+block@ch0_se0_ve0_ht0",
    "block-v1:edX+Agg+2026+type@html+block@missing",
    "i4x://edX/Agg/html/ch0_se0_ve0_ht0",
]
REAL_VALUES = {
    "username": ["alex", "ALEX", "admin", "nobody", "ghost", ""],
    "requested_fields": ["chapter,sequential,vertical,mean,username", "mean", "chapter,nope", ",,,"],
    "root_block": REAL_BLOCK_KEYS,
    "user_ids": ["1,2,3", "1.2", "x", str(2**70), "-1", ""],
    "include_optional": ["true", "TRUE", "false", "yes", ""],
    "mobile_only": ["true", "false", "1"],
    "page": ["1", "2", "0", "-1", "999999", str(2**70), "x"],
    "page_size": ["1", "0", "-5", "100000", str(2**70)],
    "cohorts": ["1", "-1", "x", str(2**70)],
    "exclude_roles": ["staff,instructor", "beta_testers", ""],
    "q": ["alex", "%", "_", "\\"],
    "completion": ["0.5", "1", "2", "nan"],
}


def _segment(text: str) -> str:
    return quote(text, safe="")


#: Text that is not a key: any code point (surrogates excluded: they cannot be sent as UTF-8).
not_a_key = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
#: Raw bytes, percent-encoded as one path segment (invalid UTF-8, NUL and "/" included).
raw_segment = st.binary(max_size=24).map(lambda data: quote(data, safe=""))


def path_value(real: list[str]):
    """A path segment: a real key, or any text, or any bytes (already percent-encoded)."""
    return st.one_of(st.sampled_from(real).map(_segment), not_a_key.map(_segment), raw_segment)


def query_value(name: str):
    return st.one_of(st.sampled_from(REAL_VALUES[name]), not_a_key)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | not_a_key,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(not_a_key, children, max_size=4),
    max_leaves=12,
)


@st.composite
def requests(draw, endpoints=tuple(ENDPOINTS)):
    method, template = draw(st.sampled_from(endpoints))
    path = template.format(
        course_key=draw(path_value(REAL_COURSE_KEYS)),
        block_key=draw(path_value(REAL_BLOCK_KEYS)),
        chapter_id=draw(path_value(["ch0", "ch1", "missing", "course"])),
    )
    names = draw(st.lists(st.sampled_from(PARAMS), unique=True, max_size=4))
    params = {name: draw(query_value(name)) for name in names}
    body = None
    if method == "post":
        body = draw(
            st.one_of(
                st.builds(json.dumps, st.fixed_dictionaries({}, optional={name: json_value for name in PARAMS})),
                st.builds(json.dumps, json_value),
                st.integers(1, 1500).map(lambda depth: "[" * depth + "]" * depth),
                st.integers(1, 1500).map(lambda depth: '{"completion": ' * depth + "1" + "}" * depth),
                not_a_key,
            )
        )
    return method, ROOT + path, params, body, draw(st.sampled_from(USERS))


@pytest.fixture
def population(course):
    """The regular course (16 leaves), a course not released yet, and the callers."""
    course_key, leaves = course
    later, _ = build_course(UPCOMING, shape=(2, 1, 1, 2), extra={"course": {"start": timezone.now() + timedelta(days=30)}})
    alex = learner("alex", course_key)
    Enrollment.objects.create(user=alex, course_key=later)
    store(alex, course_key, leaves[:5])
    teacher = learner("teacher")
    CourseAccessRole.objects.create(user=teacher, course_key=course_key, org="edX", role="staff")
    users = {"alex": alex, "nobody": learner("nobody"), "teacher": teacher, "admin": learner("admin", is_staff=True)}
    clients = {None: Client()}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def fuzz(clients, endpoints=tuple(ENDPOINTS)):
    """Run the bounded property over the endpoints; return {status: count} and the failures."""
    statuses: dict[int, int] = {}
    failures: list[tuple] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests(endpoints))
    def run(request):
        method, path, params, body, user = request
        client = clients[user]
        query = urlencode(params)
        try:
            if method == "get":
                response = client.get(path, params)
            else:
                response = client.post(f"{path}?{query}" if query else path, body, content_type="application/json")
        except Exception as exc:  # an exception escaping a view is a 500
            failures.append((method, path, params, body, user, repr(exc)[:300]))
            return
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append((method, path, params, body, user, response.status_code))

    run()
    return statuses, failures


CHAPTER_PAGE = ("get", "/progress_bar/{course_key}/{chapter_id}/")


def test_fuzzed_paths_and_parameters_never_answer_5xx(population):
    """Every endpoint but the progress bar's chapter page (fuzzed on its own below)."""
    statuses, failures = fuzz(population, [endpoint for endpoint in ENDPOINTS if endpoint != CHAPTER_PAGE])
    print(f"fuzz: {EXAMPLES} examples, statuses {dict(sorted(statuses.items()))}")
    assert not failures, failures[:5]
    assert statuses.get(200, 0) > 0 and any(400 <= status < 500 for status in statuses)


def test_fuzzed_progress_bar_chapter_ids_never_answer_5xx(population):
    _statuses, failures = fuzz(population, [CHAPTER_PAGE])
    assert not failures, failures[:5]
