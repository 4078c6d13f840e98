"""
The progress bar in the LMS: who may embed it (issue 17, point 2).

In edx-platform the allow-list is computed from the site's own origins: the LMS
(``LMS_ROOT_URL``), the Learning MFE (``LEARNING_MICROFRONTEND_URL``, an URL with a path),
Studio (``CMS_ROOT_URL`` or the bare host ``CMS_BASE``) and the LMS preview host
(``PREVIEW_LMS_BASE``), plus ``COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS``.
"""
from __future__ import annotations

import pytest

from completion_aggregator.adapters import get_adapter
from completion_aggregator.adapters.site_origins import origin_of

from .conftest import COURSE, make_user

pytestmark = pytest.mark.django_db


def test_the_lms_learning_mfe_studio_and_preview_may_embed_the_bar(published, client, settings):
    from common.djangoapps.student.models import CourseEnrollment

    settings.LMS_ROOT_URL = "https://lms.example.com"
    settings.LEARNING_MICROFRONTEND_URL = "https://apps.example.com/learning"
    settings.CMS_BASE = "studio.example.com"
    settings.PREVIEW_LMS_BASE = "preview.lms.example.com"
    settings.COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS = ["https://partner.example.org"]
    ann = make_user("ann")
    CourseEnrollment.enroll(ann, COURSE)
    client.force_login(ann)
    response = client.get(f"/completion-aggregator/progress_bar/{COURSE}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://lms.example.com https://apps.example.com https://studio.example.com "
        "https://preview.lms.example.com https://partner.example.org"
    )
    assert "X-Frame-Options" not in response
    # The "not available" page is just as embeddable.
    missing = client.get(f"/completion-aggregator/progress_bar/{COURSE}/nope/")
    assert missing.status_code == 200
    assert missing["Content-Security-Policy"] == response["Content-Security-Policy"]


def test_unset_or_malformed_platform_settings_add_nothing(settings):
    settings.LMS_ROOT_URL = "http://localhost:18000"
    settings.LEARNING_MICROFRONTEND_URL = None
    settings.CMS_BASE = "localhost:18010"
    settings.PREVIEW_LMS_BASE = "bad host;script-src *"
    settings.CMS_ROOT_URL = ""
    # Bare hosts take the LMS's scheme.
    assert get_adapter().site_origins() == ["http://localhost:18000", "http://localhost:18010"]


@pytest.mark.parametrize(
    "value, origin",
    [
        ("https://lms.example.com/", "https://lms.example.com"),
        ("http://apps.local.openedx.io:2000/learning", "http://apps.local.openedx.io:2000"),
        ("studio.example.com", "https://studio.example.com"),
        ("http://[::1]:8000/x", "http://[::1]:8000"),
        ("", None),
        (None, None),
        ("ftp://files.example.com", None),
        ("https://a b.example.com", None),
        ("https://x:99999", None),
    ],
)
def test_origin_of(value, origin):
    assert origin_of(value) == origin
