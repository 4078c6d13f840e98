"""``common.djangoapps.student.signals.signals``."""
from django.dispatch import Signal

# kwargs: user, course_key, mode, countdown
ENROLLMENT_TRACK_UPDATED = Signal()
# kwargs: course_enrollment, skip_refund
UNENROLL_DONE = Signal()
# kwargs: event, user, course_id, mode, cost, currency
ENROLL_STATUS_CHANGE = Signal()
