"""``openedx.core.djangoapps.course_groups.signals.signals``."""
from django.dispatch import Signal

# kwargs: user, course_key (sender=None on removal)
COHORT_MEMBERSHIP_UPDATED = Signal()
