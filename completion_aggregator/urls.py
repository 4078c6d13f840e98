"""URLs of the app (mounted under ``completion-aggregator/``)."""
from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path, re_path

from . import views
from .rest_api.patterns import COURSE_KEY_PATTERN
from .url_names import PEER_URL_NAMES, alias_patterns

app_name = "completion_aggregator"

urlpatterns: list[URLPattern | URLResolver] = [
    # REST API: v1/, v0/, api/schema/, api/docs/.
    path("", include("completion_aggregator.rest_api.urls")),
    # Embeddable progress bars (course, chapter by its block id) and the course progress report.
    re_path(rf"^progress_bar/{COURSE_KEY_PATTERN}/$", views.progress_bar, name="progress-bar"),
    re_path(
        rf"^progress_bar/{COURSE_KEY_PATTERN}/(?P<chapter_id>[^/]+)/$", views.progress_bar, name="progress-bar-chapter"
    ),
    re_path(rf"^report/{COURSE_KEY_PATTERN}/$", views.course_report, name="course-report"),
    re_path(rf"^report/{COURSE_KEY_PATTERN}/csv/$", views.course_report_csv, name="course-report-csv"),
]
urlpatterns += alias_patterns(urlpatterns, PEER_URL_NAMES, "")
