"""Signals of the standalone host (the counterparts of edx-platform's)."""
from django.dispatch import Signal

#: Sent after a new structure version of a course is committed. kwargs: ``course_key``.
course_published = Signal()
