"""The LMS's URL configuration as the plugin's ``url_config`` mounts the app, plus stand-ins for two LMS views (``views.py``)."""
from django.contrib import admin
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("fake-lms/enroll/<str:course_id>/", views.enroll),
    path("fake-lms/cohort/<int:cohort_id>/add/", views.add_to_cohort),
    re_path(
        r"^completion-aggregator/",
        include(("completion_aggregator.urls", "completion_aggregator"), namespace="completion_aggregator"),
    ),
]
