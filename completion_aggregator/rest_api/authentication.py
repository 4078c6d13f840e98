"""
Authentication of the REST API, in the peer's order: JWT, OAuth2 bearer (edx-platform only), session.

``JwtAuthentication`` comes first on purpose: DRF answers 401 (not 403) to anonymous requests
only when the first authenticator has an ``authenticate_header``, and it does.
"""

from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from edx_rest_framework_extensions.auth.session.authentication import SessionAuthenticationAllowInactiveUser

try:  # Only inside edx-platform.
    from openedx.core.lib.api.authentication import BearerAuthenticationAllowInactiveUser
except ImportError:  # pragma: no cover - depends on the host
    BearerAuthenticationAllowInactiveUser = None

AUTHENTICATION_CLASSES = tuple(
    cls
    for cls in (JwtAuthentication, BearerAuthenticationAllowInactiveUser, SessionAuthenticationAllowInactiveUser)
    if cls is not None
)
