"""v0 REST URLs (under ``completion-aggregator/v0/``)."""

from django.urls import path, re_path

from ...url_names import PEER_URL_NAMES, alias_patterns
from ..patterns import BLOCK_KEY_PATTERN, COURSE_KEY_PATTERN
from . import views

app_name = "v0"

urlpatterns = [
    path("course/", views.CourseCompletionListView.as_view(), name="course-list"),
    # Before the detail pattern, which would also match a three-part (deprecated-style) key.
    re_path(
        rf"^course/{COURSE_KEY_PATTERN}/blocks/{BLOCK_KEY_PATTERN}/$",
        views.BlockCompletionView.as_view(),
        name="block-completion",
    ),
    re_path(rf"^course/{COURSE_KEY_PATTERN}/$", views.CourseCompletionDetailView.as_view(), name="course-detail"),
]
urlpatterns += alias_patterns(urlpatterns, PEER_URL_NAMES, "v0:")
