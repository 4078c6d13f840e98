"""URLs of the app (mounted under ``completion-aggregator/``)."""
from django.urls import include, path

app_name = "completion_aggregator"

urlpatterns = [
    # REST API: v1/, v0/, api/schema/, api/docs/.
    path("", include("completion_aggregator.rest_api.urls")),
]
