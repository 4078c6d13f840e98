"""
The pages speak in names (issue 19, points 3 and 7): sections and subsections by their display
names (the block id as a tooltip / data attribute, and beside the name in the CSV headers), the
progress bar says what it measures, and the histogram bins learners by the percent the table shows.
"""
import csv
import io
import re

import pytest

from completion_aggregator.api import report_page
from tests.helpers import build_course, learner
from tests.rest_api.conftest import make_course_staff, store

from .conftest import bar_url, csv_url, logged_in, report_url

pytestmark = pytest.mark.django_db

NAMES = {
    "ch0": {"display_name": "Module 1: Getting started"},
    "ch1": {"display_name": "Section 2"},
    "ch0_se0": {"display_name": "Lesson 1.1 & more"},
}


@pytest.fixture
def named_course():
    return build_course(extra=NAMES)


def staff_client(browser, course_key):
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    return logged_in(browser, teacher)


def test_the_report_labels_sections_and_subsections_by_display_name(browser, named_course):
    course_key, leaves = named_course
    store(learner("alex", course_key), course_key, leaves[:3])
    html = staff_client(browser, course_key).get(report_url(course_key)).content.decode()
    chapter = course_key.make_usage_key("chapter", "ch0")
    assert re.search(rf'<summary title="{re.escape(str(chapter))}" data-block-id="ch0">Module 1: Getting started</summary>', html)
    assert '<td title="{}" data-block-id="ch0_se0">Lesson 1.1 &amp; more</td>'.format(course_key.make_usage_key("sequential", "ch0_se0")) in html
    # Learner table headers: names, the id as a tooltip.
    headers = re.findall(r'<th scope="col" class="num" title="([^"]+)" data-block-id="(\w+)">([^<]+)</th>', html)
    assert [(block_id, name) for _title, block_id, name in headers] == [("ch0", "Module 1: Getting started"), ("ch1", "Section 2")]
    # A block without a display name falls back to its id.
    assert '<td title="{}" data-block-id="ch0_se1">ch0_se1</td>'.format(course_key.make_usage_key("sequential", "ch0_se1")) in html


def test_the_csv_headers_give_the_display_name_and_the_block_id(browser, named_course):
    course_key, leaves = named_course
    store(learner("alex", course_key), course_key, leaves[:3])
    response = staff_client(browser, course_key).get(csv_url(course_key))
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == ["username", "course_percent", "Module 1: Getting started (ch0)", "Section 2 (ch1)"]


def test_the_course_bar_says_what_it_measures(browser, named_course):
    course_key, leaves = named_course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[:2])  # 2/16 = 12.5 % → 13
    html = logged_in(browser, alex).get(bar_url(course_key)).content.decode()
    assert re.search(r'<span class="ca-progress__label"[^>]*>Course: 13 % complete</span>', html)
    assert 'aria-valuetext="Course: 13 % complete"' in html


def test_the_section_bar_names_the_section(browser, named_course):
    course_key, leaves = named_course
    alex = learner("alex", course_key)
    store(alex, course_key, leaves[8:11])  # ch1 holds leaves 8..15: 3/8 = 37.5 % → 38
    html = logged_in(browser, alex).get(bar_url(course_key, "ch1")).content.decode()
    assert re.search(r'<span class="ca-progress__label"[^>]*>Section 2: 38 % complete</span>', html)
    assert 'aria-valuetext="Section 2: 38 % complete"' in html


def test_histogram_bins_agree_with_the_rounded_percents_of_the_table(browser):
    course_key, leaves = build_course(shape=(1, 1, 1, 21))
    users = {"at_9_52": 2, "at_4_76": 1, "at_19_05": 4, "at_100": 21}  # 2/21 = 9.52 % shows as 10 %
    for name, done in users.items():
        store(learner(name, course_key), course_key, leaves[:done])
    html = staff_client(browser, course_key).get(report_url(course_key)).content.decode()
    counts = [int(count) for count in re.findall(r'data-bin-low="\d+" data-bin-high="\d+" data-count="(\d+)"', html)]
    shown = [report_page.whole_percent(float(percent)) for percent in re.findall(r'<tr data-username="[^"]+" data-percent="([\d.]+)"', html)]
    expected = [0] * 10
    for whole in shown:
        expected[min(9, whole // 10)] += 1
    assert sorted(shown) == [5, 10, 19, 100]
    assert counts == expected  # 10 % is in the 10–20 % bin, as the table shows it
