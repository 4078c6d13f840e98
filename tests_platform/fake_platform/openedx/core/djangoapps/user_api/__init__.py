"""Fake edx-platform package (tests only): ``openedx.core.djangoapps.user_api``."""
