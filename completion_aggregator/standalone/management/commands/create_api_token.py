"""
``python manage.py create_api_token USERNAME [--expires-in SECONDS]``: print a JWT for the REST API.

The token is signed with the first ``JWT_AUTH["JWT_ISSUERS"]`` entry (the development project's
HS256 key), so that ``curl -H "Authorization: JWT <token>" …`` works against ``runserver``.
For development and demos only: in the LMS, tokens come from its OAuth2 provider.
"""
from __future__ import annotations

import time
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    """Print a development JWT for USERNAME (use it as 'Authorization: JWT <token>')."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the arguments and options that ``--help`` lists."""
        parser.add_argument("username", help="An existing user's username.")
        parser.add_argument(
            "--expires-in", type=int, default=3600, help="Lifetime of the token in seconds (default 3600)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the command with the parsed ``options``."""
        username = options["username"]
        lifetime = options["expires_in"]
        if lifetime <= 0:
            raise CommandError("--expires-in must be a positive number of seconds.")
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user with username '{username}'.") from None
        jwt_auth = getattr(settings, "JWT_AUTH", None) or {}
        issuers = jwt_auth.get("JWT_ISSUERS") or []
        issuer: dict[str, Any] = issuers[0] if issuers else {
            "ISSUER": jwt_auth.get("JWT_ISSUER"),
            "AUDIENCE": jwt_auth.get("JWT_AUDIENCE"),
            "SECRET_KEY": jwt_auth.get("JWT_SECRET_KEY"),
        }
        if not issuer.get("SECRET_KEY"):
            raise CommandError(
                "JWT_AUTH has no signing key: configure JWT_AUTH['JWT_ISSUERS'] (see devsite/settings.py)."
            )
        now = int(time.time())
        payload = {
            "iss": issuer.get("ISSUER"),
            "aud": issuer.get("AUDIENCE"),
            "iat": now,
            "exp": now + lifetime,
            "username": user.get_username(),
            "preferred_username": user.get_username(),
            "email": getattr(user, "email", "") or "",
            "administrator": bool(getattr(user, "is_staff", False)),
            "version": "1.2.0",
            "scopes": [],
        }
        token = jwt.encode(payload, issuer["SECRET_KEY"], algorithm=jwt_auth.get("JWT_ALGORITHM", "HS256"))
        self.stdout.write(token)
