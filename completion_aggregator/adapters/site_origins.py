"""Where edx-platform shows course content (and so embeds the progress bar), from its settings."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings

#: edx-platform settings naming where course content is shown: full URLs (``LMS_ROOT_URL``,
#: ``LEARNING_MICROFRONTEND_URL`` with its path, ``CMS_ROOT_URL``) or bare hosts (``CMS_BASE``:
#: Studio, whose unit previews render HTML components; ``PREVIEW_LMS_BASE``: the LMS preview
#: host), the latter served with the scheme of ``LMS_ROOT_URL``.
SITE_ORIGIN_SETTINGS = ("LMS_ROOT_URL", "LEARNING_MICROFRONTEND_URL", "CMS_ROOT_URL", "CMS_BASE", "PREVIEW_LMS_BASE")


def origin_of(value: Any, default_scheme: str = "https") -> str | None:
    """
    ``scheme://host[:port]`` of a URL or a bare ``host[:port]`` (``default_scheme`` then).

    None for an empty or malformed value (never a CSP source that could break the header).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or any(char in host for char in " ;,'\"\\"):
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def platform_site_origins() -> list[str]:
    """
    The origins of the LMS, the Learning MFE, Studio and the LMS preview host, without repeats.

    Read from the platform's Django settings (:data:`SITE_ORIGIN_SETTINGS`); bare hosts take
    the scheme of ``LMS_ROOT_URL`` (``https`` when it has none).
    """
    scheme = urlsplit(str(getattr(django_settings, "LMS_ROOT_URL", "") or "https://")).scheme or "https"
    origins = (origin_of(getattr(django_settings, name, None), scheme) for name in SITE_ORIGIN_SETTINGS)
    return list(dict.fromkeys(origin for origin in origins if origin))
