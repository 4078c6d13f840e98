"""Fake edx-platform package (tests only)."""
