"""
A synchronous aggregation that fails after the completion committed never fails the request.

The completion is saved and its stale row stays unresolved; the failure is one log record and
``run_aggregator_service`` does the work later (docs/operations.rst, "When a synchronous
aggregation fails"). The failure is injected where the database would raise a deadlock.
"""
import logging

import pytest
from completion.models import BlockCompletion
from django.db import OperationalError
from django.test.utils import override_settings

from completion_aggregator.api import aggregation
from completion_aggregator.batch import run_service
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import complete, learner

from .conftest import V0, as_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("synchronous")]


@pytest.fixture
def synchronous():
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=False):
        yield


@pytest.fixture
def deadlocking(monkeypatch):
    """Every aggregation's transaction fails as a deadlock victim's would."""

    def deadlock(*args, **kwargs):
        raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")

    monkeypatch.setattr(aggregation, "_store", deadlock)
    return monkeypatch


def test_a_failed_aggregation_is_a_log_line_and_work_left_for_the_service(course, deadlocking, caplog):
    course_key, leaves = course
    alex = learner("alex", course_key)  # the enrollment's aggregation fails too (logged)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="completion_aggregator"):
        complete(alex, leaves[0])  # the learner's request: no exception
    assert BlockCompletion.objects.filter(user=alex).count() == 1
    assert StaleCompletion.objects.filter(username="alex", resolved=False).count() == 2  # enrollment + completion
    failures = [record for record in caplog.records if "left for run_aggregator_service" in record.getMessage()]
    assert len(failures) == 1 and "Deadlock found" in failures[0].getMessage()
    deadlocking.undo()
    run_service()  # the service picks the work up
    assert not StaleCompletion.objects.filter(resolved=False).exists()
    assert Aggregator.objects.get(user=alex, aggregation_name="course").earned == 1.0


def test_the_completion_endpoint_answers_201_when_the_aggregation_fails(client, course, deadlocking):
    course_key, leaves = course
    alex = learner("alex", course_key)
    response = as_user(client, alex).post(f"{V0}/course/{course_key}/blocks/{leaves[1]}/", {"completion": 1.0}, format="json")
    assert response.status_code in (200, 201), response.content
    assert BlockCompletion.objects.filter(user=alex, block_key=leaves[1]).exists()
    assert StaleCompletion.objects.filter(username="alex", resolved=False).exists()
