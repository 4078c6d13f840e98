"""URLs of the app (mounted under ``completion-aggregator/``)."""
from django.urls import include, path

app_name = "completion_aggregator"

urlpatterns = [
    path("v1/", include("completion_aggregator.rest_api.v1.urls")),
]
