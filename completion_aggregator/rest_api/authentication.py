"""
Authentication of the REST API, in the peer's order: JWT, OAuth2 bearer (edx-platform only), session.

``JwtAuthentication`` comes first on purpose: DRF answers 401 (not 403) to anonymous requests
only when the first authenticator has an ``authenticate_header``, and it does.
"""

from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from edx_rest_framework_extensions.auth.session.authentication import SessionAuthenticationAllowInactiveUser

from .. import api

# The bearer class only inside edx-platform (the edx-platform adapter imports it).
AUTHENTICATION_CLASSES = (
    JwtAuthentication,
    *api.platform_authentication_classes(),
    SessionAuthenticationAllowInactiveUser,
)
