"""
The browser tier: headless Chromium (Debian's ``chromium`` + ``chromium-driver``) against
pytest-django's live server. Run with ``make test-browser`` (``pytest -m browser tests/browser``).

These tests are deselected unless the ``-m`` expression names ``browser``: a plain ``pytest``
never needs Chromium. Screenshots go under each test's temporary folder (``tmp_path``; the
path is printed, and kept by pytest for the last three runs).
"""
import http.server
import os
import shutil
import tempfile
import threading
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: needs headless Chromium and chromedriver (make test-browser)")


def pytest_collection_modifyitems(config, items):
    """Deselect the browser tests unless they were asked for with ``-m browser``."""
    if "browser" in (config.option.markexpr or "") and "not browser" not in (config.option.markexpr or ""):
        return
    keep, drop = [], []
    for item in items:
        (drop if BROWSER_DIR in Path(str(item.fspath)).parents else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (nothing is downloaded: Debian's packages only)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(f"the browser tier needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,900",
    ):
        options.add_argument(argument)
    # Chrome's network events (tests check that a page requests nothing off this machine).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def browser_as(chromium, live_server):
    """``browser_as(user)``: the browser, logged in as ``user`` on the live server (session cookie)."""

    def login(user):
        client = Client()
        client.force_login(user)
        chromium.delete_all_cookies()
        chromium.get(live_server.url + "/admin/login/")  # any page of the origin, to set its cookie
        chromium.delete_all_cookies()
        name = django_settings.SESSION_COOKIE_NAME
        chromium.add_cookie({"name": name, "value": client.cookies[name].value, "path": "/"})
        return chromium

    yield login
    chromium.delete_all_cookies()


def _serve_folder():
    """A static HTTP server on another port of ``localhost`` (loopback only); (serve, stop)."""
    folder = tempfile.mkdtemp(prefix="ca-embed-")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args, **kwargs):
            pass

    handler = partial(Quiet, directory=folder)
    server = http.server.ThreadingHTTPServer(("localhost", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://localhost:{server.server_address[1]}"

    def serve(filename, html):
        Path(folder, filename).write_text(html, encoding="utf-8")
        return f"{origin}/{filename}"

    def stop():
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)

    serve.origin = origin
    return serve, stop


@pytest.fixture
def other_origin():
    """
    ``other_origin(filename, html)`` → URL: serve a page from another origin (another port of
    ``localhost``: a different origin, the same site, so the session cookie still goes along).
    """
    serve, stop = _serve_folder()
    yield serve
    stop()


@pytest.fixture
def third_origin():
    """Like ``other_origin``: one more origin (yet another port), for a page that is not listed."""
    serve, stop = _serve_folder()
    yield serve
    stop()


@pytest.fixture
def screenshot(chromium, tmp_path):
    """``screenshot(name)``: save the current page as ``<tmp_path>/<name>.png`` (path printed)."""

    def save(name):
        path = tmp_path / f"{name}.png"
        chromium.save_screenshot(str(path))
        print(f"screenshot: {path}")
        return path

    return save


@pytest.fixture
def viewport(chromium):
    """``viewport(width, height, mobile=False)``: emulate a screen of that CSS size (reset after the test)."""

    def set_size(width, height, mobile=False):
        chromium.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    yield set_size
    chromium.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
