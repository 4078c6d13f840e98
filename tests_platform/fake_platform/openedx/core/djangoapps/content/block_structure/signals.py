"""
``openedx.core.djangoapps.content.block_structure.signals``: rebuild the collected structure on
publish, clear it on course deletion.

edx-platform queues ``update_course_in_cache_v2`` with a countdown (30 s by default) and the CMS
routes that task to an **LMS** worker (``ALTERNATE_ENV_TASKS``), so the rebuild reads
the published branch even when the publish happened in Studio. The fake runs it at once, in a
``published-only`` branch context standing for that LMS worker.
"""
from django.dispatch import receiver
from opaque_keys.edx.locator import LibraryLocator
from xmodule.modulestore import ModuleStoreEnum
from xmodule.modulestore.django import SignalHandler, modulestore

from . import api


@receiver(SignalHandler.course_published, dispatch_uid="fake_platform.block_structure.published")
def update_block_structure_on_course_publish(sender, course_key, **kwargs):
    if isinstance(course_key, LibraryLocator):
        return
    with modulestore().branch_setting(ModuleStoreEnum.Branch.published_only, course_key):
        api.update_course_in_cache(course_key)


@receiver(SignalHandler.course_deleted, dispatch_uid="fake_platform.block_structure.deleted")
def update_block_structure_on_course_delete(sender, course_key, **kwargs):
    api.clear_course_from_cache(course_key)
