"""The progress bar embedded from another origin, and the course report, in headless Chromium."""
import csv
import io
import math

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from completion_aggregator.api import reports
from tests.helpers import build_course, learner
from tests.rest_api.conftest import make_course_staff, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def whole(percent):
    return math.floor(percent * 100 + 0.5 + 1e-9)


def api_percent(user, course_key):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/completion-aggregator/v1/course/{course_key}/")
    assert response.status_code == 200
    return response.json()["results"][0]["completion"]["percent"]


def embedder(src):
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A course page elsewhere</title></head>
<body><h1>Embedding page (another origin)</h1>
<iframe id="bar" title="Course progress" src="{src}" width="600" height="48" style="border:1px solid #999"></iframe>
</body></html>"""


def read_bar(driver):
    """(aria-valuenow, min, max, valuetext, label text, fill/track width ratio) inside the iframe."""
    WebDriverWait(driver, 10).until(expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "bar")))
    try:
        bar = WebDriverWait(driver, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, '[role="progressbar"]'))
        )
        fill = driver.find_element(By.CSS_SELECTOR, ".ca-progress__fill")
        ratio = fill.size["width"] / bar.size["width"]
        return (
            int(bar.get_attribute("aria-valuenow")),
            int(bar.get_attribute("aria-valuemin")),
            int(bar.get_attribute("aria-valuemax")),
            bar.get_attribute("aria-valuetext"),
            driver.find_element(By.ID, "ca-progress-label").text,
            ratio,
        )
    finally:
        driver.switch_to.default_content()


def test_learner_sees_their_progress_bar_embedded_from_another_origin(
    settings, live_server, browser_as, other_origin, screenshot
):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:7])  # 7/16 = 43.75 %
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["'self'", other_origin.origin]
    driver = browser_as(alex)
    page = other_origin("embed.html", embedder(f"{live_server.url}/completion-aggregator/progress_bar/{course_key}/"))
    driver.get(page)
    now, low, high, text, label, ratio = read_bar(driver)
    expected = whole(api_percent(alex, course_key))
    assert expected == 44
    assert (now, low, high, text, label) == (expected, 0, 100, "Course: 44 % complete", "Course: 44 % complete")
    assert abs(ratio - expected / 100) < 0.02  # the bar is drawn at that length
    screenshot("progress-bar-embedded")

    # The chapter bar (ch0 holds 7 of its 8 leaves).
    page = other_origin("embed-chapter.html", embedder(f"{live_server.url}/completion-aggregator/progress_bar/{course_key}/ch0/"))
    driver.get(page)
    assert read_bar(driver)[0] == 88
    screenshot("progress-bar-chapter-embedded")


def test_an_origin_not_listed_cannot_embed_the_bar(settings, live_server, browser_as, other_origin, screenshot):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:4])
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["'self'"]
    driver = browser_as(alex)
    driver.get(other_origin("embed.html", embedder(f"{live_server.url}/completion-aggregator/progress_bar/{course_key}/")))
    WebDriverWait(driver, 10).until(expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "bar")))
    try:
        assert driver.find_elements(By.CSS_SELECTOR, '[role="progressbar"]') == []
    finally:
        driver.switch_to.default_content()
    screenshot("progress-bar-blocked-origin")


def test_course_staff_report_histogram_means_and_csv(live_server, browser_as, screenshot):
    course_key, leaves = build_course()
    learners = []
    for index in range(7):
        user = learner(f"learner{index}", course_key)
        store(user, course_key, leaves[: (index * 16) // 6])
        learners.append(user)
    learners.append(learner("newcomer", course_key))
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    driver = browser_as(teacher)
    driver.get(f"{live_server.url}/completion-aggregator/report/{course_key}/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Course progress"

    counts = [int(node.get_attribute("data-count")) for node in driver.find_elements(By.CSS_SELECTOR, "#ca-histogram [data-count]")]
    stats = reports.get_course_stats(course_key, aggregation_names=["chapter"])
    assert len(counts) == 10
    assert sum(counts) == len(learners) == stats.learner_count
    assert int(driver.find_element(By.ID, "ca-learners").get_attribute("data-learners")) == stats.learner_count

    rows = driver.find_elements(By.CSS_SELECTOR, "#ca-chapters > tbody > tr[data-block-key]")
    shown = {row.get_attribute("data-block-key"): float(row.get_attribute("data-mean")) for row in rows}
    expected = {block.block_key: block.mean_completion.percent for block in stats.by_aggregation_name("chapter")}
    assert shown.keys() == expected.keys()
    for key, mean in expected.items():
        assert shown[key] == pytest.approx(mean, abs=1e-6)
    # Drill down into the first chapter (a <details> element, no JavaScript needed).
    rows[0].find_element(By.TAG_NAME, "summary").click()
    sequentials = rows[0].find_elements(By.CSS_SELECTOR, "details tr[data-block-key]")
    assert [row.find_element(By.TAG_NAME, "td").text for row in sequentials] == ["ch0_se0", "ch0_se1"]  # display names
    screenshot("course-report")

    # Search the learner table.
    box = driver.find_element(By.ID, "ca-q")
    box.send_keys("newcomer")
    box.submit()
    WebDriverWait(driver, 10).until(lambda d: "q=newcomer" in d.current_url)
    names = [row.get_attribute("data-username") for row in driver.find_elements(By.CSS_SELECTOR, "#ca-learner-table tr[data-username]")]
    assert names == ["newcomer"]
    screenshot("course-report-search")

    # The CSV, fetched with the browser's session cookie.
    href = driver.find_element(By.ID, "ca-csv").get_attribute("href")
    cookie = driver.get_cookie(django_settings.SESSION_COOKIE_NAME)["value"]
    response = requests.get(href, cookies={django_settings.SESSION_COOKIE_NAME: cookie}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["username", "course_percent", "ch0 (ch0)", "ch1 (ch1)"]
    assert [row[0] for row in table[1:]] == [user.get_username() for user in learners]
    for row, user in zip(table[1:], learners, strict=True):
        assert float(row[1]) == pytest.approx(api_percent(user, course_key) * 100, abs=0.005)


def test_learner_gets_403_on_the_report(live_server, browser_as):
    course_key, _leaves = build_course()
    alex = learner("alex", course_key)
    driver = browser_as(alex)
    driver.get(f"{live_server.url}/completion-aggregator/report/{course_key}/")
    assert "403" in driver.page_source or "Forbidden" in driver.page_source
    client = Client()
    client.force_login(alex)
    assert client.get(f"/completion-aggregator/report/{course_key}/").status_code == 403
