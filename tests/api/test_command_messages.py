"""What the management commands say when something is wrong, or done (issue 19, point 5)."""
import io

import pytest
from django.core.management import CommandError, call_command
from django.test.utils import override_settings

from completion_aggregator.models import StaleCompletion
from completion_aggregator.standalone.demo import DEMO_COURSE
from tests.helpers import build_course, learner

pytestmark = pytest.mark.django_db

INVALID = "invalid course key 'not-a-key': expected course-v1:ORG+NUMBER+RUN"
UNKNOWN = "course-v1:Nobody+Knows+This"


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("reaggregate_course", ["not-a-key"]),
        ("rebuild_completion_totals", ["not-a-key"]),
        ("rebuild_completion_totals", ["not-a-key", "--check"]),
        ("enroll_learners", ["not-a-key", "ann", "--create-users"]),
        ("unenroll_learners", ["not-a-key", "ann"]),
    ],
)
def test_one_wording_for_an_invalid_course_key(command, args):
    with pytest.raises(CommandError) as raised:
        call_command(command, *args)
    assert str(raised.value) == INVALID


@pytest.mark.parametrize("command", ["reaggregate_course", "rebuild_completion_totals"])
def test_a_course_no_site_knows_is_a_command_error_naming_it(command):
    course_key, _leaves = build_course()
    learner("alex", course_key)
    before = StaleCompletion.objects.count()
    with pytest.raises(CommandError) as raised:
        call_command(command, str(course_key), UNKNOWN)
    assert UNKNOWN in str(raised.value) and str(course_key) not in str(raised.value)
    assert "unknown course" in str(raised.value)
    assert StaleCompletion.objects.count() == before  # nothing queued for the known one either


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--limit", "-3"], "--limit"),
        (["--limit", "many"], "--limit"),
    ],
)
def test_argparse_errors_name_the_expected_form(args, option):
    with pytest.raises(CommandError) as raised:
        call_command("run_aggregator_service", *args)
    message = str(raised.value)
    assert option in message and "a positive integer" in message
    assert "_positive_int" not in message


def test_create_api_token_for_an_unknown_user_says_so_without_createsuperuser():
    with pytest.raises(CommandError) as raised:
        call_command("create_api_token", "nobody")
    assert str(raised.value) == "No user with username 'nobody'."


def load_demo(**options):
    out = io.StringIO()
    call_command("load_demo", stdout=out, learners=2, breadth=[1, 1, 1, 2], **options)
    return out.getvalue()


@override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
def test_load_demo_in_asynchronous_mode_says_queued_for_aggregation():
    out = load_demo()
    assert "queued for aggregation" in out and "(aggregated)" not in out


def test_load_demo_in_synchronous_mode_says_aggregated():
    out = load_demo()
    assert "(aggregated)" in out and "queued" not in out


def test_load_demo_prints_the_urls_of_the_address_it_is_served_on():
    out = load_demo(url="http://localhost:8765")
    assert f"http://localhost:8765/completion-aggregator/progress_bar/{DEMO_COURSE}/" in out
    assert "8000" not in out
