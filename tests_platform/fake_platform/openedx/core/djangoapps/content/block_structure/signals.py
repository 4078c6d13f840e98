"""Rebuild the collected structure on publish (edx-platform queues a task 30 s later; here it runs at once)."""
from django.dispatch import receiver
from opaque_keys.edx.locator import LibraryLocator
from xmodule.modulestore.django import SignalHandler

from . import api


@receiver(SignalHandler.course_published, dispatch_uid="fake_platform.block_structure.published")
def update_block_structure_on_course_publish(sender, course_key, **kwargs):
    if isinstance(course_key, LibraryLocator):
        return
    api.update_course_in_cache(course_key)


@receiver(SignalHandler.course_deleted, dispatch_uid="fake_platform.block_structure.deleted")
def update_block_structure_on_course_delete(sender, course_key, **kwargs):
    api.clear_course_from_cache(course_key)
