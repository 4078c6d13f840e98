"""
Issue 18, point 4: the report CSV cannot hurt the spreadsheet that opens it.

Usernames may start with ``+``, ``-`` or ``@`` in edx-platform; a cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by spreadsheet programs
(CSV injection). The CSV prefixes such a cell with ``'`` (the name stays readable, the cell is
text); the HTML page shows the name as it is (escaped).
"""
import csv
import io

import pytest

from completion_aggregator.api.report_page import spreadsheet_safe
from tests.helpers import learner
from tests.rest_api.conftest import store

from .conftest import csv_url, logged_in, report_url

pytestmark = pytest.mark.django_db

HOSTILE = ["+cmd", "-2+3", "@SUM", "=1+1", "\tx", "\rx"]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tA", "'\tA"),
        ("\rA", "'\rA"),
        ("alex", "alex"),
        ("a=b", "a=b"),
        ("", ""),
        ("'already", "'already"),
    ],
)
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected


def test_csv_neutralises_formula_cells_and_the_page_shows_the_names(browser, course):
    course_key, leaves = course
    from django.contrib.auth import get_user_model

    from completion_aggregator.standalone.models import Enrollment

    users = []
    for name in HOSTILE:
        # Bypass the form validators, as an LMS's registration or SSO pipeline may.
        user = get_user_model().objects.create(username=name, email=f"{len(users)}@example.com")
        Enrollment.objects.create(user=user, course_key=course_key)
        users.append(user)
    store(users[0], course_key, leaves[:4])
    admin = learner("admin", is_staff=True)
    response = logged_in(browser, admin).get(csv_url(course_key))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    names = [row[0] for row in rows[1:]]
    assert names == ["'" + name for name in HOSTILE]
    assert rows[1][1] == "25.00"  # numbers stay numbers
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    page = browser.get(report_url(course_key)).content.decode()
    for name in ("+cmd", "-2+3", "@SUM", "=1+1"):
        assert f'title="{name}">{name}</th>' in page  # the sticky username cell, as typed
