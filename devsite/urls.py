"""URLs of the development project: the app where the LMS mounts it, plus the admin."""
from django.contrib import admin
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    re_path(r"^completion-aggregator/", include(("completion_aggregator.urls", "completion_aggregator"), namespace="completion_aggregator")),
]
