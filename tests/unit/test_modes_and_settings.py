"""Completion modes and settings, without a database."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings
from xblock.completable import XBlockCompletionMode
from xblock.core import XBlock

from completion_aggregator.completion_modes import installed_mode, mode_lookup
from completion_aggregator.conf import get_setting
from completion_aggregator.data import CompletionMode
from completion_aggregator.settings import common, production


class Settings:
    """A bare settings namespace, as edx-platform's plugin loader passes one."""


def test_builtin_table_and_unknown_types():
    lookup = mode_lookup()
    assert lookup("chapter") is CompletionMode.AGGREGATOR
    assert lookup("problem") is CompletionMode.COMPLETABLE
    assert lookup("discussion") is CompletionMode.EXCLUDED
    assert lookup("no-such-xblock") is CompletionMode.EXCLUDED


class QuietBlock(XBlock):
    completion_mode = XBlockCompletionMode.EXCLUDED


class PlainBlock(XBlock):
    pass


@XBlock.register_temp_plugin(QuietBlock, "html")
@XBlock.register_temp_plugin(PlainBlock, "fancy")
def _lookups():
    installed_mode.cache_clear()
    lookup = mode_lookup()
    return lookup("html"), lookup("fancy")


def test_the_installed_xblock_class_wins_over_the_table():
    try:
        assert _lookups() == (CompletionMode.EXCLUDED, CompletionMode.COMPLETABLE)  # XBlock's default: completable
    finally:
        installed_mode.cache_clear()


def test_overrides_and_library_content_on_view():
    with override_settings(COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES={"discussion": "completable"}):
        assert mode_lookup()("discussion") is CompletionMode.COMPLETABLE
    with override_settings(MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW=True):
        assert mode_lookup()("library_content") is CompletionMode.COMPLETABLE
    with override_settings(COMPLETION_AGGREGATOR_COMPLETION_MODE_OVERRIDES={"html": "sometimes"}):
        with pytest.raises(ImproperlyConfigured, match="sometimes"):
            mode_lookup()


def test_one_accessor_with_defaults_in_one_place():
    assert get_setting("COMPLETION_AGGREGATOR_AGGREGATION_LOCK_TIMEOUT_SECONDS") == 1800
    with override_settings(COMPLETION_AGGREGATOR_MAX_PAGE_SIZE=50):
        assert get_setting("COMPLETION_AGGREGATOR_MAX_PAGE_SIZE") == 50
    with pytest.raises(KeyError):
        get_setting("COMPLETION_AGGREGATOR_TYPO")


def test_plugin_settings_common_then_production_overrides():
    settings = Settings()
    settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = True  # set by the operator's YAML
    common.plugin_settings(settings)
    assert settings.COMPLETION_AGGREGATOR_ASYNC_AGGREGATION is True
    assert settings.COMPLETION_AGGREGATOR_BLOCK_TYPES == {"course", "chapter", "sequential", "vertical"}
    assert settings.ENABLE_COURSE_ACTIVITY_SIGNALS is True
    settings.ENV_TOKENS = {"COMPLETION_AGGREGATOR_BLOCK_TYPES": ["course", "chapter"], "COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT": 5}
    production.plugin_settings(settings)
    assert settings.COMPLETION_AGGREGATOR_BLOCK_TYPES == {"course", "chapter"}
    assert settings.COMPLETION_AGGREGATOR_UPDATER_CACHE_TIMEOUT == 600  # not copied from ENV_TOKENS, as the peer


def test_aggregator_row_validation():
    from django.core.exceptions import ValidationError

    from completion_aggregator.models import Aggregator

    with pytest.raises(ValidationError) as info:
        Aggregator(earned=2.0, possible=1.0, percent=1.5, optional_earned=-1.0, optional_possible=0.0, optional_percent=1.0).clean()
    assert set(info.value.message_dict) == {"earned", "percent", "optional_earned"}
    Aggregator(earned=0.5, possible=1.0, percent=0.5).clean()
