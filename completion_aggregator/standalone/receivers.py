"""
The standalone host's signals, turned into the app's reactions (connected by its ``AppConfig``).

The counterparts of ``platform_receivers``: the host announces a publish, an enrollment change
or a cohort change, and each receiver makes the call that edx-platform's signal would cause
(:mod:`completion_aggregator.receivers`). The core app never imports this host (ADR 0023).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .. import receivers
from .models import CohortMembership, Enrollment
from .signals import course_published

course_published.connect(receivers.course_published, dispatch_uid="completion_aggregator.standalone_published")


@receiver(post_save, sender=Enrollment, dispatch_uid="completion_aggregator.standalone_enrollment")
def enrollment_saved(sender: type[Enrollment], instance: Enrollment, **kwargs: Any) -> None:
    """Enrolled, re-activated or changed track (an unenrollment keeps the rows)."""
    receivers.enrollment_changed(instance.user_id, instance.course_key)
    if instance.is_active:
        receivers.learner_changed(instance.user.get_username(), instance.course_key)


@receiver(post_delete, sender=Enrollment, dispatch_uid="completion_aggregator.standalone_enrollment_deleted")
def enrollment_deleted(sender: type[Enrollment], instance: Enrollment, **kwargs: Any) -> None:
    """An enrollment row was deleted: the learner leaves the statistics."""
    receivers.enrollment_changed(instance.user_id, instance.course_key)


@receiver(post_save, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_saved")
@receiver(post_delete, sender=CohortMembership, dispatch_uid="completion_aggregator.standalone_cohort_deleted")
def cohort_changed(sender: type[CohortMembership], instance: CohortMembership, **kwargs: Any) -> None:
    """Cohort membership changed (content groups may show other blocks)."""
    receivers.learner_changed(instance.user.get_username(), instance.course_key)
