"""The LMS's URL configuration as the plugin's ``url_config`` mounts the app (no standalone demo pages)."""
from django.contrib import admin
from django.urls import include, path, re_path

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(
        r"^completion-aggregator/",
        include(("completion_aggregator.urls", "completion_aggregator"), namespace="completion_aggregator"),
    ),
]
