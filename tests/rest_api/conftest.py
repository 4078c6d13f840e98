"""Fixtures of the REST API tests: a published course, learners, staff, an API client."""
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from completion_aggregator import api
from completion_aggregator.standalone.models import CourseAccessRole
from tests.helpers import build_course, complete, learner

V1 = "/completion-aggregator/v1"
V0 = "/completion-aggregator/v0"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """``learner()`` sets a password; the default hasher makes that slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_django_cache():
    """The course mean is cached in django's cache (locmem survives between tests)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def course():
    """A course of 2 chapters x 2 sequentials x 2 verticals x 2 leaves (16 leaves)."""
    return build_course()


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def staff():
    return learner("admin", is_staff=True)


def as_user(client, user):
    client.force_authenticate(user=user)
    return client


def store(user, course_key, leaves, value=1.0):
    """Complete ``leaves`` and store the learner's aggregates (as the aggregation service would)."""
    for leaf in leaves:
        complete(user, leaf, value)
    api.aggregate_learners(course_key, [user.get_username()])


def make_course_staff(user, course_key, role="staff"):
    CourseAccessRole.objects.create(user=user, course_key=course_key, org=course_key.org, role=role)


def detail_url(course_key, version=V1):
    return f"{version}/course/{course_key}/"


def stats_url(course_key):
    return f"{V1}/stats/{course_key}/"
