"""Fake edx-platform package (tests only): ``lms.djangoapps.grades``."""
