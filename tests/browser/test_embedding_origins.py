"""
Issue 17, point 2 in a real browser: the Learning MFE (another origin than the LMS) embeds the
progress bar and it renders; a page on an origin that is not listed is blocked by the browser.
"""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import build_course, learner
from tests.rest_api.conftest import store

from .test_pages_in_chromium import embedder, read_bar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADAPTER = "tests.browser.adapters.StandaloneWithPlatformOrigins"


def test_the_learning_mfe_embeds_the_bar_and_an_unlisted_origin_cannot(
    settings, live_server, browser_as, other_origin, third_origin, screenshot
):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:8])  # 50 %
    settings.COMPLETION_AGGREGATOR_ADAPTER = ADAPTER
    settings.LMS_ROOT_URL = live_server.url
    settings.LEARNING_MICROFRONTEND_URL = f"{other_origin.origin}/learning"  # the MFE, with its path
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ()  # nothing extra: the site's origins only
    bar = f"{live_server.url}/completion-aggregator/progress_bar/{course_key}/"
    driver = browser_as(alex)

    driver.get(other_origin("learning.html", embedder(bar)))
    now, _low, _high, text, _label, _ratio = read_bar(driver)
    assert (now, text) == (50, "Course: 50 % complete")
    screenshot("progress-bar-in-the-mfe")

    driver.get(third_origin("elsewhere.html", embedder(bar)))
    WebDriverWait(driver, 10).until(expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "bar")))
    try:
        assert driver.find_elements(By.CSS_SELECTOR, '[role="progressbar"]') == []
    finally:
        driver.switch_to.default_content()
    screenshot("progress-bar-unlisted-origin")

    # The "not available" page embeds in the MFE too (an unknown chapter).
    driver.get(other_origin("missing.html", embedder(bar + "nope/")))
    WebDriverWait(driver, 10).until(expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "bar")))
    try:
        node = WebDriverWait(driver, 10).until(
            expected_conditions.presence_of_element_located((By.ID, "ca-progress-unavailable"))
        )
        assert node.get_attribute("data-reason") == "unknown-chapter"
        assert "is not available" in node.text
    finally:
        driver.switch_to.default_content()
