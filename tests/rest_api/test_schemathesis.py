"""
Schemathesis against the OpenAPI schema, through the development project's WSGI app.

Every operation of ``/completion-aggregator/api/schema/`` is called with generated inputs, as
global staff (a development JWT), over a published course with enrolled learners and stored
completions: once with generated path parameters (mostly invalid keys) and once with the real
course and block keys (so that query strings and bodies are fuzzed against 200 answers), the latter also with
schemathesis' negative (schema-violating) data, and anonymously (401).
Checks: no 5xx, and every response conforms to the schema (status code, content type, body).

The WSGI app runs in this thread and closes its database connection after each request (as a
server would), hence a transactional test.
"""
import time
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings

from tests.helpers import build_course, learner

from .conftest import store

SCHEMA_PATH = "/completion-aggregator/api/schema/"
MAX_EXAMPLES = 25
#: Where the figures of the last run are kept (the test prints them too).
FIGURES: dict = {}


def checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def populated():
    """A course, four enrolled learners (two with stored completions), and a staff token."""
    course_key, leaves = build_course()
    other_key, _ = build_course("course-v1:edX+Other+2026", shape=(1, 1, 1, 2))
    users = [learner(f"learner{index}", course_key) for index in range(4)]
    store(users[0], course_key, leaves[:6])
    store(users[1], course_key, leaves[:16])
    learner("other", other_key)
    learner("admin", course_key, is_staff=True)  # enrolled: its block completion POSTs succeed
    out = StringIO()
    call_command("create_api_token", "admin", stdout=out)
    return course_key, leaves, out.getvalue().strip()


def run_operation(operation, token, path_parameters=None, mode=None, examples=MAX_EXAMPLES):
    """Run ``examples`` generated cases of one operation (anonymous without ``token``); return their statuses."""
    from schemathesis import GenerationMode

    sent = []
    kwargs = {"path_parameters": path_parameters} if path_parameters else {}
    strategy = operation.as_strategy(mode or GenerationMode.POSITIVE, **kwargs)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def test(case):
        headers = {"Authorization": f"JWT {token}"} if token else None
        if not token:
            case.headers = {name: value for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
        response = case.call(headers=headers)
        sent.append(response.status_code)
        case.validate_response(response, checks=checks(), headers=headers)

    test()
    return sent


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(populated):
    from schemathesis import GenerationMode

    from devsite.wsgi import application

    course_key, leaves, token = populated
    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    statuses: dict[int, int] = {}
    examples = 0
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {"course_key": str(course_key), "block_key": str(leaves[0])}
        runs = [
            (None, GenerationMode.POSITIVE),
            ({name: fixed[name] for name in names}, GenerationMode.POSITIVE),
            ({name: fixed[name] for name in names}, GenerationMode.NEGATIVE),
        ]
        for path_parameters, mode in runs:
            for status in run_operation(operation, token, path_parameters, mode):
                statuses[status] = statuses.get(status, 0) + 1
                examples += 1
        anonymous = run_operation(operation, None, {name: fixed[name] for name in names}, examples=5)
        assert set(anonymous) == {401}
        examples += len(anonymous)
        statuses[401] = statuses.get(401, 0) + len(anonymous)
    duration = time.monotonic() - started
    FIGURES.update(operations=len(operations), examples=examples, statuses=statuses, seconds=round(duration, 1))
    print(f"schemathesis: {FIGURES}")
    assert not any(status >= 500 for status in statuses)
    # The fixed keys reach real answers (and a recorded completion), not only 4xx.
    assert statuses.get(200, 0) > 0 and statuses.get(201, 0) > 0
