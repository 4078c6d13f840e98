"""v1 REST URLs (under ``completion-aggregator/v1/``)."""

from django.urls import path, re_path

from ...url_names import PEER_URL_NAMES, alias_patterns
from ..patterns import COURSE_KEY_PATTERN
from . import views

app_name = "v1"

urlpatterns = [
    path("course/", views.CourseCompletionListView.as_view(), name="course-list"),
    re_path(rf"^course/{COURSE_KEY_PATTERN}/$", views.CourseCompletionDetailView.as_view(), name="course-detail"),
    re_path(rf"^stats/{COURSE_KEY_PATTERN}/$", views.CourseStatsView.as_view(), name="course-stats"),
]
urlpatterns += alias_patterns(urlpatterns, PEER_URL_NAMES, "v1:")
