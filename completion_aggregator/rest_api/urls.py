"""
The REST API's URLs: ``v1/``, ``v0/``, the OpenAPI schema and its Swagger UI.

The schema is at ``api/schema/``, the Swagger UI at ``api/docs/``. Included by
``completion_aggregator.urls``, mounted under ``completion-aggregator/`` (namespace ``completion_aggregator``).
"""

from django.apps import apps
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

#: Where edx-platform (and the development project) mount the app.
MOUNT = r"^completion-aggregator/"

SCHEMA_SETTINGS = {
    "TITLE": "Completion aggregator API",
    "DESCRIPTION": (
        "Course, section and unit completion of Open edX learners. Authenticate with a JWT "
        '("Authorization: JWT <token>"), an OAuth2 bearer token (in the LMS) or a session.'
    ),
    "VERSION": "1.0.0",
    # Conditional response fields are read-only: not "required" in the schema.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
}


class SwaggerView(SpectacularSwaggerView):
    """
    Swagger UI with its assets served by the site itself where it can.

    From the site itself when ``drf_spectacular_sidecar`` is an
    installed app (it is a requirement of this package), so that ``api/docs/`` works offline;
    otherwise wherever the host's ``SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"]`` says (a CDN by default).
    """

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        if apps.is_installed("drf_spectacular_sidecar"):
            return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")
        return str(SpectacularSwaggerView._swagger_ui_resource(filename))

    @staticmethod
    def _swagger_ui_favicon() -> str:
        if apps.is_installed("drf_spectacular_sidecar"):
            return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")
        return str(SpectacularSwaggerView._swagger_ui_favicon())


def api_urlpatterns() -> list[URLPattern | URLResolver]:
    """The versioned endpoints (a fresh list each time: included twice, once for the schema)."""
    return [
        path("v1/", include("completion_aggregator.rest_api.v1.urls")),
        path("v0/", include("completion_aggregator.rest_api.v0.urls")),
    ]


urlpatterns = [
    *api_urlpatterns(),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(
            # Only this app's endpoints, at the paths where the host mounts them.
            urlconf=[re_path(MOUNT, include(api_urlpatterns()))],
            custom_settings=SCHEMA_SETTINGS,
        ),
        name="schema",
    ),
    path("api/docs/", SwaggerView.as_view(url_name="completion_aggregator:schema"), name="docs"),
]
