"""
Issue 19 in headless Chromium: a learner logs in through the form, the report reads like a
course on a desktop and on a 390 px phone, and the API docs work with no request leaving the
machine.
"""
import json
import math
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from completion_aggregator.api import report_page
from tests.helpers import build_course, learner
from tests.rest_api.conftest import make_course_staff, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def api_percent(user, course_key):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/completion-aggregator/v1/course/{course_key}/").json()["results"][0]["completion"]["percent"]


def test_a_learner_types_their_login_and_lands_on_their_progress_bar(live_server, chromium, screenshot):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    alex.set_password("alex-password")
    alex.save()
    store(alex, course_key, leaves[:7])  # 7/16 = 43.75 %
    chromium.delete_all_cookies()
    bar = f"/completion-aggregator/progress_bar/{course_key}/"
    chromium.get(live_server.url + bar)
    WebDriverWait(chromium, 10).until(expected_conditions.presence_of_element_located((By.ID, "login-form")))
    assert urlsplit(chromium.current_url).path == "/accounts/login/"  # not the admin's login
    chromium.find_element(By.ID, "id_username").send_keys("alex")
    chromium.find_element(By.ID, "id_password").send_keys("alex-password")
    screenshot("login-form-filled")
    chromium.find_element(By.CSS_SELECTOR, '#login-form button[type="submit"]').click()
    progress = WebDriverWait(chromium, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, '[role="progressbar"]'))
    )
    assert urlsplit(chromium.current_url).path == bar
    expected = math.floor(api_percent(alex, course_key) * 100 + 0.5)
    assert expected == 44
    assert int(progress.get_attribute("aria-valuenow")) == expected
    assert chromium.find_element(By.ID, "ca-progress-label").text == "Course: 44 % complete"
    screenshot("progress-bar-after-login")
    # The front page says who is logged in and logs out.
    chromium.get(live_server.url + "/")
    assert chromium.find_element(By.ID, "username").text == "alex"
    chromium.find_element(By.ID, "logout").click()
    WebDriverWait(chromium, 10).until(expected_conditions.presence_of_element_located((By.ID, "login")))
    chromium.delete_all_cookies()


def page_overflow(driver):
    """How many CSS pixels the page itself is wider than the viewport (0: no horizontal scroll)."""
    return driver.execute_script(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth;"
    )


@pytest.fixture
def wide_named_course():
    """Six sections with long display names, twelve learners at various percents."""
    names = {f"ch{index}": {"display_name": f"Module {index + 1}: A long section title number {index + 1}"} for index in range(6)}
    names["ch0_se0"] = {"display_name": "Lesson 1.1: Getting started"}
    course_key, leaves = build_course(shape=(6, 2, 1, 2), extra=names)
    for index in range(12):
        store(learner(f"learner_with_a_long_name_{index:02d}", course_key), course_key, leaves[: index * 2])
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    return course_key, teacher


@pytest.mark.parametrize(("width", "height", "mobile"), [(1280, 900, False), (390, 844, True)])
def test_the_report_reads_like_a_course_at_desktop_and_phone_width(
    live_server, browser_as, viewport, screenshot, wide_named_course, width, height, mobile
):
    course_key, teacher = wide_named_course
    driver = browser_as(teacher)
    viewport(width, height, mobile)
    driver.get(f"{live_server.url}/completion-aggregator/report/{course_key}/")
    assert driver.execute_script("return window.innerWidth;") == width
    # Names, not ids; the id as tooltip and data attribute.
    summaries = driver.find_elements(By.CSS_SELECTOR, "#ca-chapters summary")
    assert summaries[0].text == "Module 1: A long section title number 1"
    assert summaries[0].get_attribute("data-block-id") == "ch0"
    assert summaries[0].get_attribute("title") == str(course_key.make_usage_key("chapter", "ch0"))
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#ca-learner-table thead th.num")]
    assert headers[0] == "Module 1: A long section title number 1"
    # The histogram bins agree with the table's rounded percents.
    counts = [int(node.get_attribute("data-count")) for node in driver.find_elements(By.CSS_SELECTOR, "#ca-histogram [data-count]")]
    shown = [
        report_page.whole_percent(float(row.get_attribute("data-percent")))
        for row in driver.find_elements(By.CSS_SELECTOR, "#ca-learner-table tr[data-username]")
    ]
    expected = [0] * 10
    for whole in shown:
        expected[min(9, whole // 10)] += 1
    assert counts == expected
    screenshot(f"course-report-{width}px")
    # No page-level horizontal overflow: the learner table scrolls inside its own box.
    assert page_overflow(driver) <= 0
    scroller = driver.find_element(By.ID, "ca-learner-scroll")
    driver.execute_script("document.getElementById('ca-learners-title').scrollIntoView();")
    screenshot(f"course-report-{width}px-learners")
    overflow_inside = driver.execute_script("return arguments[0].scrollWidth - arguments[0].clientWidth;", scroller)
    if width == 390:
        assert overflow_inside > 0  # too wide for a phone: it scrolls, inside
        driver.execute_script("arguments[0].scrollLeft = arguments[0].scrollWidth;", scroller)
        cell = driver.find_element(By.CSS_SELECTOR, "#ca-learner-table tbody th.ca-sticky")
        left = driver.execute_script(
            "return arguments[0].getBoundingClientRect().left - arguments[1].getBoundingClientRect().left;", cell, scroller
        )
        assert abs(left) < 1  # the username column stayed in view
        assert cell.is_displayed() and cell.text.startswith("learner_with_a_long_name_")
        screenshot(f"course-report-{width}px-table-scrolled")
        assert page_overflow(driver) <= 0


def network_urls(driver):
    """Every URL Chrome requested since the last call (its performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_the_api_docs_show_the_operations_and_request_nothing_off_this_machine(
    live_server, browser_as, screenshot
):
    driver = browser_as(learner("reader"))
    network_urls(driver)  # drain what came before
    driver.get(f"{live_server.url}/completion-aggregator/api/docs/")
    WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 7)
    summaries = {node.text for node in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert any("/completion-aggregator/v1/course/" in text for text in summaries), summaries
    screenshot("api-docs")
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    urls = network_urls(driver) + resources
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    external = [url for url in urls if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOOPBACK]
    assert external == []
