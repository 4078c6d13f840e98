"""
The exceptions the Python API raises, for its callers to catch (ADR 0023).

The rest of the API's public surface is :mod:`completion_aggregator.api` itself; callers never
import its other submodules, nor the store or the host adapters, to catch an error.
"""

from __future__ import annotations

from ..adapters.base import CourseNotFound
from ..locks import LockHeld


class BlockNotInCourse(LookupError):
    """The requested root block is not part of the learner's course structure."""


class NotEnrolled(LookupError):
    """The learner is not actively enrolled in the course."""


class CompletionTrackingDisabled(RuntimeError):
    """edx-completion's ``completion.enable_completion_tracking`` switch is off: nothing can be recorded."""


__all__ = ["BlockNotInCourse", "CompletionTrackingDisabled", "CourseNotFound", "LockHeld", "NotEnrolled"]
