"""Fixtures of the page tests (the REST API tests' course, learners and helpers)."""
import pytest
from django.test import Client

from tests.rest_api.conftest import _clear_django_cache, _fast_passwords, course, staff  # noqa: F401

PAGES = "/completion-aggregator"


@pytest.fixture
def browser():
    """A plain Django test client (pages use the session, like a browser)."""
    return Client()


def logged_in(client, user):
    client.force_login(user)
    return client


def bar_url(course_key, chapter_id=None):
    return f"{PAGES}/progress_bar/{course_key}/" + (f"{chapter_id}/" if chapter_id else "")


def report_url(course_key):
    return f"{PAGES}/report/{course_key}/"


def csv_url(course_key):
    return f"{PAGES}/report/{course_key}/csv/"
