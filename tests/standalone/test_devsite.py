"""The development project (devsite) as a newcomer meets it (issue 19)."""
import io
import logging
import subprocess
from pathlib import Path

import jwt
import pytest
from django.conf import settings

from tests.helpers import build_course, learner
from tests.rest_api.conftest import store

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


PROGRESS = "/completion-aggregator/progress_bar/{}/"


@pytest.mark.django_db
def test_a_learner_logs_in_on_the_login_page_and_lands_on_their_progress_bar(client):
    course_key, leaves = build_course()
    alex = learner("alex", course_key)
    alex.set_password("learner-pw")
    alex.save()
    store(alex, course_key, leaves[:4])  # 4/16
    bar = PROGRESS.format(course_key)
    redirect = client.get(bar)
    assert redirect.status_code == 302
    login_url = redirect["Location"]
    assert login_url.startswith(settings.LOGIN_URL + "?next=")
    page = client.get(login_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and f'value="{bar}"' in html
    wrong = client.post(settings.LOGIN_URL, {"username": "alex", "password": "nope", "next": bar})
    assert wrong.status_code == 200 and "didn't match" in wrong.content.decode()
    landed = client.post(settings.LOGIN_URL, {"username": "alex", "password": "learner-pw", "next": bar}, follow=True)
    assert landed.redirect_chain[-1][0] == bar
    assert 'aria-valuenow="25"' in landed.content.decode()


@pytest.mark.django_db
def test_the_front_page_offers_log_in_then_log_out(client):
    alex = learner("alex")
    alex.set_password("pw")
    alex.save()
    assert 'href="/accounts/login/"' in client.get("/").content.decode()
    client.post(settings.LOGIN_URL, {"username": "alex", "password": "pw"})
    front = client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in front and "alex" in front
    assert client.post("/accounts/logout/").status_code == 302
    assert 'href="/accounts/login/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_browsable_api_shows_a_log_in_link_to_an_anonymous_visitor(client):
    response = client.get("/completion-aggregator/v1/course/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert "href='/accounts/login/?next=/completion-aggregator/v1/course/'>Log in</a>" in response.content.decode()
