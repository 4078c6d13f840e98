"""drf-spectacular glue: how the schema describes the JWT authenticator."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JwtAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: JWT <token>`` (edx-drf-extensions' JwtAuthentication)."""

    target_class = "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication"
    name = "jwtAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """The ``Authorization`` header, as an API key."""
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A JWT from the LMS, sent as "JWT <token>".',
        }


class SessionAllowInactiveScheme(OpenApiAuthenticationExtension):
    """The LMS session cookie (edx-drf-extensions' SessionAuthenticationAllowInactiveUser)."""

    target_class = "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser"
    name = "cookieAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """The session cookie (named by ``SESSION_COOKIE_NAME``), as an API key."""
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
