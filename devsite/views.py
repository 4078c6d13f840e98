"""The development project's front page: links to everything there is to try."""
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.html import escape

from completion_aggregator.standalone.demo import DEMO_COURSE

LINKS = [
    ("/admin/", "Django admin (staff / staff): courses, structures, enrollments, roles, cohorts, aggregators"),
    ("/accounts/login/", "Log in (learners: learner1 / learner; staff: staff / staff)"),
    ("/completion-aggregator/v1/course/", "v1: my courses"),
    (
        f"/completion-aggregator/v1/course/{DEMO_COURSE}/?requested_fields=chapter,sequential",
        "v1: the demo course, by chapter and sequential",
    ),
    (f"/completion-aggregator/v1/stats/{DEMO_COURSE}/?requested_fields=chapter", "v1: course statistics (staff)"),
    ("/completion-aggregator/api/docs/", "OpenAPI docs"),
    (
        f"/completion-aggregator/progress_bar/{DEMO_COURSE}/",
        "Progress bar: my course completion (learner1 / learner; embeddable in an iframe)",
    ),
    (
        f"/completion-aggregator/report/{DEMO_COURSE}/",
        "Course progress report (staff / staff): distribution, sections, learners",
    ),
    (f"/completion-aggregator/report/{DEMO_COURSE}/csv/", "Course progress report as CSV (staff / staff)"),
]


def index(request):
    """A plain page of links, who is logged in, and a log-out button (logging out is a POST)."""
    if request.user.is_authenticated:
        who = (
            f'Logged in as <strong id="username">{escape(request.user.get_username())}</strong> · '
            f'<form method="post" action="/accounts/logout/" style="display:inline">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(request))}">'
            f'<button type="submit" id="logout">Log out</button></form>'
        )
    else:
        who = 'Not logged in · <a href="/accounts/login/" id="login">Log in</a>'
    items = "".join(f'<li><a href="{escape(url)}">{escape(url)}</a> — {escape(text)}</li>' for url, text in LINKS)
    return HttpResponse(
        f"<!doctype html><title>completion_aggregator</title><h1>completion_aggregator</h1><p>{who}</p><ul>{items}</ul>"
    )
