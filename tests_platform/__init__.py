"""Tests of the edx-platform integration, against the fake platform (devsite.settings_platform)."""
