"""The embeddable progress bar pages (course and chapter)."""
import re

import pytest

from completion_aggregator import api
from tests.helpers import complete, learner
from tests.rest_api.conftest import store

from .conftest import bar_url, logged_in

pytestmark = pytest.mark.django_db


def bar(response):
    """(aria-valuenow, aria-valuemin, aria-valuemax, visible label) of a progress bar page."""
    html = response.content.decode()
    node = re.search(r'<div[^>]*role="progressbar"[^>]*>', html, re.S).group(0)
    values = {name: int(re.search(rf'{name}="(\d+)"', node).group(1)) for name in ("aria-valuenow", "aria-valuemin", "aria-valuemax")}
    label = re.search(r'<span class="ca-progress__label"[^>]*>([^<]*)</span>', html).group(1)
    return values["aria-valuenow"], values["aria-valuemin"], values["aria-valuemax"], label


def test_anonymous_is_redirected_to_login(browser, course):
    course_key, _leaves = course
    response = browser.get(bar_url(course_key))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/completion-aggregator/progress_bar/")
    assert "no-store" in response["Cache-Control"]


def test_course_bar_shows_the_learners_rounded_percent_accessibly(browser, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:5])  # 5/16 = 31.25 %
    response = logged_in(browser, alex).get(bar_url(course_key))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert bar(response) == (31, 0, 100, "Course: 31 % complete")
    assert 'aria-valuetext="Course: 31 % complete"' in response.content.decode()
    assert "--ca-progress-value: 31%" in response.content.decode()


def test_halves_round_up(browser, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:1], value=0.5)  # 0.5/16 = 3.125 %
    store(alex, course_key, leaves[1:2], value=0.5)  # 1/16 = 6.25 %
    assert bar(logged_in(browser, alex).get(bar_url(course_key)))[0] == 6
    store(alex, course_key, leaves[2:3], value=1.0)  # 2/16 = 12.5 %
    assert bar(browser.get(bar_url(course_key)))[0] == 13


def test_chapter_bar(browser, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:5])  # chapter ch0 has 8 leaves: 62.5 %
    response = logged_in(browser, alex).get(bar_url(course_key, "ch0"))
    assert response.status_code == 200
    assert bar(response) == (63, 0, 100, "ch0: 63 % complete")  # the chapter's display name
    assert bar(browser.get(bar_url(course_key, "ch1")))[0] == 0
    # An unknown chapter: the embeddable "not available" page (test_progress_bar_dropin.py).
    assert browser.get(bar_url(course_key, "nope")).status_code == 200


def test_headers_embeddable_never_cached(browser, course, settings):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = logged_in(browser, alex).get(bar_url(course_key))
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"  # the standalone host: its own origin
    assert "X-Frame-Options" not in response  # the devsite has XFrameOptionsMiddleware: exempt
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["'self'", "https://apps.example.com"]
    response = browser.get(bar_url(course_key, "ch0"))
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://apps.example.com"
    assert "X-Frame-Options" not in response
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["https://apps.example.com"]
    assert browser.get(bar_url(course_key))["Content-Security-Policy"] == "frame-ancestors 'self' https://apps.example.com"
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["'none'"]
    assert browser.get(bar_url(course_key))["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_no_external_requests(browser, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    html = logged_in(browser, alex).get(bar_url(course_key)).content.decode()
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)\s*=|url\(|@import|https?:|//[a-z]""", html, re.I)


def test_not_enrolled_sees_zero_percent(browser, course):
    course_key, _leaves = course
    stranger = learner("stranger")
    response = logged_in(browser, stranger).get(bar_url(course_key))
    assert response.status_code == 200
    assert bar(response) == (0, 0, 100, "Course: 0 % complete")
    assert bar(browser.get(bar_url(course_key, "ch0")))[0] == 0


def test_invalid_course_key_is_400_with_the_embeddable_page(browser, course):
    alex = learner("alex")
    response = logged_in(browser, alex).get(bar_url("not-a-course-key"))
    assert response.status_code == 400
    assert 'data-reason="invalid-course-key"' in response.content.decode()


def test_pending_changes_show_the_fresh_value(browser, course, settings):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])  # stored: 25 %
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True  # the next completions only queue
    for leaf in leaves[4:8]:
        complete(alex, leaf)
    assert api.has_pending_work("alex", course_key)
    assert bar(logged_in(browser, alex).get(bar_url(course_key)))[0] == 50


def test_a_learner_only_ever_sees_their_own_bar(browser, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    bob = learner("bob", course_key)
    store(bob, course_key, leaves)
    # The page has no way to name another learner: parameters are ignored.
    response = logged_in(browser, alex).get(bar_url(course_key) + f"?username=bob&user_id={bob.pk}")
    assert bar(response)[0] == 0


def test_only_get_and_head(browser, course):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    logged_in(browser, alex)
    assert browser.post(bar_url(course_key)).status_code == 405
    assert browser.head(bar_url(course_key)).status_code == 200
