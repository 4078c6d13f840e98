from django.dispatch import receiver
from xmodule.modulestore.django import SignalHandler

from .models import CourseOverview


@receiver(SignalHandler.course_published, dispatch_uid="fake_platform.course_overviews.published")
def _listen_for_course_publish(sender, course_key, **kwargs):
    CourseOverview.load_from_module_store(course_key)
