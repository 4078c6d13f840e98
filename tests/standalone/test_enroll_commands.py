"""``enroll_learners`` / ``unenroll_learners`` management commands."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from completion_aggregator.standalone.models import Enrollment
from tests.helpers import build_course

pytestmark = pytest.mark.django_db

KEY = "course-v1:edX+Agg+2026"


def run(name, *args, **options):
    out = io.StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def course():
    build_course(KEY, shape=(1, 1, 1, 1))
    return KEY


def active(course_key=KEY):
    return dict(Enrollment.objects.filter(course_key=course_key, is_active=True).values_list("user__username", "mode"))


def test_enroll_creates_users_and_enrollments(course):
    out = run("enroll_learners", course, "ann", "bob", "ann", create_users=True, mode="verified")
    assert "enrolled 2" in out and "users created 2" in out and "ann, bob" in out
    assert active() == {"ann": "verified", "bob": "verified"}
    assert not get_user_model().objects.get(username="ann").has_usable_password()
    out = run("enroll_learners", course, "ann", "bob", mode="audit")
    assert "mode changed 2" in out
    out = run("enroll_learners", course, "ann", mode="audit")
    assert "already enrolled 1" in out
    assert active() == {"ann": "audit", "bob": "audit"}


def test_unenroll_then_reenroll(course):
    run("enroll_learners", course, "ann", "bob", create_users=True)
    out = run("unenroll_learners", course, "ann")
    assert "unenrolled 1" in out and "ann" in out
    assert active() == {"bob": "audit"}
    assert Enrollment.objects.filter(user__username="ann", is_active=False).exists()  # kept, inactive
    out = run("unenroll_learners", course, "ann")
    assert "not enrolled: ann" in out
    out = run("enroll_learners", course, "ann")
    assert "enrolled 1" in out and active() == {"ann": "audit", "bob": "audit"}


@pytest.mark.parametrize(
    "command, args, options, message",
    [
        ("enroll_learners", ["not-a-key", "ann"], {"create_users": True}, "invalid course key 'not-a-key'"),
        ("enroll_learners", ["course-v1:No+Such+Course", "ann"], {"create_users": True}, "has no published structure"),
        ("enroll_learners", [KEY, "ann", "ghost"], {}, "unknown users: ghost (pass --create-users"),
        ("enroll_learners", [KEY, "ann"], {"mode": " "}, "--mode must be"),
        ("unenroll_learners", ["nope", "ann"], {}, "invalid course key"),
        ("unenroll_learners", ["course-v1:No+Such+Course", "ann"], {}, "has no published structure"),
        ("unenroll_learners", [KEY, "ann", "ghost"], {}, "unknown users: ghost"),
    ],
)
def test_bad_input_is_a_command_error_and_writes_nothing(course, command, args, options, message):
    get_user_model().objects.create(username="ann")
    with pytest.raises(CommandError) as raised:
        run(command, *args, **options)
    assert message in str(raised.value)
    assert not Enrollment.objects.exists()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ann"]


def test_a_missing_username_is_an_argparse_error(course):
    with pytest.raises(CommandError):
        run("enroll_learners", course)
