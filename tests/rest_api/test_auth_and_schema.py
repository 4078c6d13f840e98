"""Authentication (JWT, session, anonymous), the dev token command, and the OpenAPI schema."""
import time
from io import StringIO

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.helpers import learner

from .conftest import V0, V1, detail_url, stats_url

pytestmark = pytest.mark.django_db

COURSE = "course-v1:edX+Agg+2026"


def token_for(username, **extra):
    out = StringIO()
    call_command("create_api_token", username, stdout=out, **extra)
    return out.getvalue().strip()


def forged(payload_overrides=None, key=None):
    issuer = settings.JWT_AUTH["JWT_ISSUERS"][0]
    now = int(time.time())
    payload = {
        "iss": issuer["ISSUER"],
        "aud": issuer["AUDIENCE"],
        "iat": now,
        "exp": now + 60,
        "username": "alex",
        "email": "alex@example.com",
        "administrator": False,
        "version": "1.2.0",
        "scopes": [],
    }
    payload.update(payload_overrides or {})
    return jwt.encode(payload, key or issuer["SECRET_KEY"], algorithm="HS256")


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", f"{V1}/course/"),
        ("get", detail_url(COURSE)),
        ("post", detail_url(COURSE)),
        ("get", stats_url(COURSE)),
        ("get", f"{V0}/course/"),
        ("get", detail_url(COURSE, V0)),
        ("post", f"{V0}/course/{COURSE}/blocks/block-v1:edX+Agg+2026+type@html+block@x/"),
    ],
)
def test_anonymous_requests_get_401(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("JWT")


def test_a_token_from_create_api_token_authenticates(client, course):
    course_key, _leaves = course
    learner("alex", course_key)
    response = client.get(f"{V1}/course/", HTTP_AUTHORIZATION=f"JWT {token_for('alex')}")
    assert response.status_code == 200
    assert [entry["course_key"] for entry in response.json()["results"]] == [str(course_key)]


def test_a_staff_token_keeps_staff_powers(client, course):
    course_key, _leaves = course
    learner("alex", course_key)
    learner("admin", is_staff=True)
    response = client.get(detail_url(course_key), HTTP_AUTHORIZATION=f"JWT {token_for('admin')}")
    assert response.status_code == 200
    assert [entry["username"] for entry in response.json()["results"]] == ["alex"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: forged(key="another-key-another-key-another-key-!"), id="wrong-key"),
        pytest.param(lambda: forged({"exp": int(time.time()) - 10}), id="expired"),
        pytest.param(lambda: forged({"aud": "someone-else"}), id="wrong-audience"),
        pytest.param(lambda: forged({"iss": "https://elsewhere/oauth2"}), id="wrong-issuer"),
    ],
)
def test_invalid_tokens_get_401_and_change_nothing(client, token):
    alex = learner("alex")
    response = client.get(f"{V1}/course/", HTTP_AUTHORIZATION=f"JWT {token()}")
    assert response.status_code == 401
    alex.refresh_from_db()
    assert not alex.is_staff


def test_a_forged_administrator_claim_does_not_make_staff(client):
    alex = learner("alex")
    token = forged({"administrator": True}, key="not-the-dev-key-not-the-dev-key-!!")
    assert client.get(f"{V1}/course/", HTTP_AUTHORIZATION=f"JWT {token}").status_code == 401
    alex.refresh_from_db()
    assert not alex.is_staff


def test_create_api_token_rejects_unknown_users():
    with pytest.raises(CommandError, match="No user with username 'nobody'"):
        token_for("nobody")


def test_create_api_token_payload():
    learner("alex")
    issuer = settings.JWT_AUTH["JWT_ISSUERS"][0]
    payload = jwt.decode(
        token_for("alex", expires_in=120), issuer["SECRET_KEY"], algorithms=["HS256"], audience=issuer["AUDIENCE"]
    )
    assert payload["username"] == "alex"
    assert payload["email"] == "alex@example.com"
    assert payload["administrator"] is False
    assert payload["iss"] == issuer["ISSUER"]
    assert payload["version"] == "1.2.0"
    assert payload["scopes"] == []
    assert payload["exp"] - payload["iat"] == 120


def test_session_authentication(client, course):
    course_key, _leaves = course
    learner("alex", course_key)
    assert client.login(username="alex", password="learner")
    response = client.get(f"{V1}/course/")
    assert response.status_code == 200
    assert response.json()["results"][0]["course_key"] == str(course_key)


def test_schema_is_an_openapi_document_of_the_api(client):
    response = client.get("/completion-aggregator/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert "/completion-aggregator/v1/course/" in paths
    assert "/completion-aggregator/v1/course/{course_key}/" in paths
    assert {"get", "post"} <= set(paths["/completion-aggregator/v1/course/{course_key}/"])
    assert "/completion-aggregator/v1/stats/{course_key}/" in paths
    assert "/completion-aggregator/v0/course/{course_key}/blocks/{block_key}/" in paths
    parameters = {p["name"] for p in paths["/completion-aggregator/v1/course/{course_key}/"]["get"]["parameters"]}
    assert {"course_key", "username", "requested_fields", "root_block", "user_ids", "page_size"} <= parameters
    assert "jwtAuth" in document["components"]["securitySchemes"]


def test_swagger_ui_docs_page(client):
    response = client.get("/completion-aggregator/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_swagger_ui_assets_come_from_this_site_not_a_cdn(client, settings):
    """Issue 19: api/docs/ works offline (drf-spectacular-sidecar's static files)."""
    import re

    from django.contrib.staticfiles import finders

    html = client.get("/completion-aggregator/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [url for url in sources if url.endswith((".js", ".css", ".png"))]
    assert len(assets) >= 4, sources  # css, bundle, standalone preset, favicon
    for url in assets:
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url[len(settings.STATIC_URL):]), f"{url} is not a static file of the site"
    assert "cdn" not in html.lower() and "https://" not in html
