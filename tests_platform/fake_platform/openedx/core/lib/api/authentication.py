"""``openedx.core.lib.api.authentication``: OAuth2 bearer tokens (none are valid in the fake)."""
from rest_framework.authentication import BaseAuthentication


class BearerAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'


class BearerAuthenticationAllowInactiveUser(BearerAuthentication):
    """Bearer authentication that accepts inactive users."""
