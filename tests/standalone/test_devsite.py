"""The development project (devsite) as a newcomer meets it (issue 19)."""
import io
import logging
import subprocess
from pathlib import Path

import jwt
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_events_file_is_under_the_project_and_ignored_by_git():
    path = Path(settings.EVENTS_LOG_PATH).resolve()
    assert ROOT in path.parents  # not a machine-wide path shared by every checkout
    handler = settings.LOGGING["handlers"]["completion_aggregator_events"]
    assert Path(handler["filename"]).resolve() == path
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT)
    assert ignored.returncode == 0, f"{path} is not ignored by git"


@pytest.mark.django_db
def test_an_invalid_jwt_is_one_log_line_not_a_traceback(client):
    handler = next(h for h in logging.getLogger("edx_rest_framework_extensions").handlers if h.name == "one_line_console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        forged = jwt.encode({"username": "x", "exp": 4102444800}, "not-the-key-not-the-key-not-the-key!", algorithm="HS256")
        for token in ("abc.def.ghi", forged):
            response = client.get("/completion-aggregator/v1/course/", HTTP_AUTHORIZATION=f"JWT {token}")
            assert response.status_code == 401
    finally:
        handler.setStream(previous)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines  # one per request
    assert all(line.startswith("ERROR edx_rest_framework_extensions") and "Token verification failed" in line for line in lines)
    assert "InvalidSignatureError: Signature verification failed" in lines[1]
    assert "Traceback" not in stream.getvalue()
