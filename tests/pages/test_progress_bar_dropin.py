"""
The progress bar where courses embed it (issue 17, points 2 and 5; issue 18's hostile chapter ids).

* the frame-ancestors allow-list: the site's own origins plus the setting;
* an unknown course or chapter: an embeddable, accessible "not available" page (200);
* a chapter id that cannot be a block id: the same page with 400, never a 500;
* a deleted course: the learner's stored percent.
"""
import re

import pytest
from django.core.cache import cache

from completion_aggregator.adapters import get_adapter
from completion_aggregator.standalone.models import CourseStructure
from tests.helpers import learner
from tests.rest_api.conftest import store

from .conftest import PAGES, bar_url, logged_in

pytestmark = pytest.mark.django_db


def unavailable(response):
    """The ``data-reason`` of a "not available" page (None for a progress bar)."""
    match = re.search(r'id="ca-progress-unavailable" data-reason="([^"]*)"', response.content.decode())
    return match.group(1) if match else None


def assert_embeddable(response):
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"].startswith("frame-ancestors 'self'")
    assert "X-Frame-Options" not in response
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert '<html lang="en">' in html and "<title>" in html
    assert "is not available." in html  # visible text, read by screen readers as is
    assert not re.search(r"<(script|link|img|iframe)\b", html)


@pytest.mark.parametrize(
    "who, url, reason",
    [
        ("enrolled", "course-v1:No+Such+Course", "unknown-course"),
        ("stranger", "course-v1:No+Such+Course", "unknown-course"),
        ("enrolled", ("course-v1:No+Such+Course", "ch0"), "unknown-course"),
        ("enrolled", (None, "nope"), "unknown-chapter"),
        ("stranger", (None, "nope"), "unknown-chapter"),
        ("enrolled", (None, "ch0_se0"), "unknown-chapter"),  # a sequential, not a chapter
    ],
)
def test_an_unknown_course_or_chapter_is_an_embeddable_not_available_page(browser, course, who, url, reason):
    course_key, _leaves = course
    user = learner("alex", course_key if who == "enrolled" else None)
    if isinstance(url, tuple):
        target = bar_url(url[0] or course_key, url[1])
    else:
        target = bar_url(url)
    response = logged_in(browser, user).get(target)
    assert response.status_code == 200
    assert unavailable(response) == reason
    assert_embeddable(response)
    assert "role=\"progressbar\"" not in response.content.decode()


@pytest.mark.parametrize(
    "raw_chapter",
    ["abc%20def", "%3Cscript%3E", "a%00b", "%FF", "%C3%28", "a%0Ab", "a%22b"],
)
def test_a_chapter_id_that_cannot_be_a_block_id_is_400_with_the_same_page(browser, course, raw_chapter):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    response = logged_in(browser, alex).get(f"{PAGES}/progress_bar/{course_key}/{raw_chapter}/")
    assert response.status_code == 400
    assert unavailable(response) == "invalid-chapter-id"
    assert_embeddable(response)
    assert "<script>" not in response.content.decode()


def test_a_deleted_course_shows_the_stored_percent(browser, course):
    course_key, leaves = course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])  # 25 %; chapter ch0 50 %
    CourseStructure.objects.filter(course__course_key=course_key).delete()
    get_adapter().clear_cache()
    cache.clear()
    logged_in(browser, alex)
    response = browser.get(bar_url(course_key))
    assert response.status_code == 200 and unavailable(response) is None
    assert 'aria-valuenow="25"' in response.content.decode()
    assert 'aria-valuenow="50"' in browser.get(bar_url(course_key, "ch0")).content.decode()
    assert unavailable(browser.get(bar_url(course_key, "zz"))) == "unknown-chapter"


def test_the_allow_list_is_the_sites_origin_plus_the_setting(browser, course, settings):
    course_key, _leaves = course
    alex = learner("alex", course_key)
    logged_in(browser, alex)
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ("https://apps.example.com", "https://x.example.com;script-src *", "'none'")
    csp = browser.get(bar_url(course_key))["Content-Security-Policy"]
    # A value that would inject a directive is dropped, and 'none' among others means nothing.
    assert csp == "frame-ancestors 'self' https://apps.example.com"
