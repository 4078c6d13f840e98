"""The plugin as edx-platform discovers it: wheel entry points, plugin_app, plugin settings."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from completion_aggregator.apps import CompletionAggregatorAppConfig
from completion_aggregator.settings import common, production

ROOT = Path(__file__).resolve().parent.parent
APP_CONFIG = "completion_aggregator.apps:CompletionAggregatorAppConfig"

DOCUMENTED = {
    "COMPLETION_AGGREGATOR_BLOCK_TYPES": {"course", "chapter", "sequential", "vertical"},
    "COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES": {"course", "chapter", "sequential", "vertical"},
    "COMPLETION_AGGREGATOR_ASYNC_AGGREGATION": False,
    "COMPLETION_AGGREGATOR_AGGREGATION_LOCK": "COMPLETION_AGGREGATOR_AGGREGATION_LOCK",
    "COMPLETION_AGGREGATOR_CLEANUP_LOCK": "COMPLETION_AGGREGATOR_CLEANUP_LOCK",
    "COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS": 1800,
    "COMPLETION_AGGREGATOR_CLEANUP_LOCK_TIMEOUT_SECONDS": 900,
    "COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS": False,
    "COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT": 600,
    "COMPLETION_AGGREGATOR_USE_COLLECTED_BLOCK_STRUCTURE": False,
    "ENABLE_COURSE_ACTIVITY_SIGNALS": True,
}


@pytest.fixture(scope="module")
def wheel_entry_points(tmp_path_factory) -> configparser.ConfigParser:
    """Build the wheel from a copy of the source tree (the working tree is left untouched)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.py", "setup.cfg", "MANIFEST.in", "README.rst", "CHANGELOG.rst", "LICENSE.txt"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "requirements", src / "requirements", ignore=ignore)
    shutil.copytree(ROOT / "completion_aggregator", src / "completion_aggregator", ignore=ignore)
    out = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True,
        cwd=tmp,
        capture_output=True,
    )
    (wheel,) = out.glob("completion_aggregator-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        parser = configparser.ConfigParser()
        parser.optionxform = str
        parser.read_string(archive.read(name).decode())
        assert "completion_aggregator/transformers.py" in archive.namelist()
    return parser


def test_the_wheel_lists_the_three_entry_points(wheel_entry_points):
    assert dict(wheel_entry_points["lms.djangoapp"]) == {"completion_aggregator": APP_CONFIG}
    assert dict(wheel_entry_points["cms.djangoapp"]) == {"completion_aggregator": APP_CONFIG}
    assert dict(wheel_entry_points["openedx.block_structure_transformer"]) == {
        "completion_aggregator_annotator": "completion_aggregator.transformers:AggregatorAnnotationTransformer"
    }


def test_plugin_app_declares_urls_and_current_settings_types():
    plugin = CompletionAggregatorAppConfig.plugin_app
    assert plugin["url_config"]["lms.djangoapp"] == {
        "namespace": "completion_aggregator",
        "regex": r"^completion-aggregator/",
        "relative_path": "urls",
    }
    for project in ("lms.djangoapp", "cms.djangoapp"):
        types = plugin["settings_config"][project]
        assert types == {
            "common": {"relative_path": "settings.common"},
            "production": {"relative_path": "settings.production"},
        }  # never the legacy ``aws`` name


def test_common_then_production_on_a_bare_object_yields_every_setting():
    settings = SimpleNamespace()
    common.plugin_settings(settings)
    production.plugin_settings(settings)
    for name, value in DOCUMENTED.items():
        assert getattr(settings, name) == value, name
    for name, value in common.DEFAULTS.items():
        assert getattr(settings, name) == value, name


def test_operator_overrides_are_visible_after_production():
    settings = SimpleNamespace()
    common.plugin_settings(settings)
    # The LMS merges its YAML into the namespace between the two hooks …
    settings.COMPLETION_AGGREGATOR_BLOCK_TYPES = ["course", "chapter"]
    # … and still keeps ENV_TOKENS for sites that set them there.
    settings.ENV_TOKENS = {"COMPLETION_AGGREGATOR_ASYNC_AGGREGATION": True, "ENABLE_COURSE_ACTIVITY_SIGNALS": False}
    production.plugin_settings(settings)
    assert settings.COMPLETION_AGGREGATOR_BLOCK_TYPES == {"course", "chapter"}
    assert settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION is True
    assert settings.ENABLE_COURSE_ACTIVITY_SIGNALS is False


def test_host_settings_are_not_overwritten_by_common():
    settings = SimpleNamespace(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True)
    common.plugin_settings(settings)
    assert settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION is True


def test_the_platform_bearer_class_is_in_the_rest_authentication():
    from openedx.core.lib.api.authentication import BearerAuthenticationAllowInactiveUser

    from completion_aggregator.rest_api.authentication import AUTHENTICATION_CLASSES

    names = [cls.__name__ for cls in AUTHENTICATION_CLASSES]
    assert names == ["JwtAuthentication", "BearerAuthenticationAllowInactiveUser", "SessionAuthenticationAllowInactiveUser"]
    assert AUTHENTICATION_CLASSES[1] is BearerAuthenticationAllowInactiveUser


def test_the_platform_receivers_are_connected():
    from completion_aggregator import platform_receivers

    assert set(platform_receivers.connect()) == {
        "course_published", "item_deleted", "cohort_membership_updated", "enrollment_track_updated",
        "COURSE_ENROLLMENT_CREATED", "COURSE_ENROLLMENT_CHANGED", "COURSE_UNENROLLMENT_COMPLETED",
        "COHORT_MEMBERSHIP_CHANGED", "user_retire_lms_misc", "user_retire_lms_critical",
    }
