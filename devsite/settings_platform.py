"""
Test settings for the edx-platform adapter: ``pytest --ds=devsite.settings_platform tests_platform``.

``devsite.settings`` plus a faithful fake of the edx-platform modules the adapter calls
(``tests_platform/fake_platform``, put on ``sys.path``), its Django apps (student, course
overviews, course groups, block structure), and the edx-platform adapter selected. The
standalone host app is removed: the fake platform plays the LMS.
"""
import sys
from pathlib import Path

from devsite.settings import *  # noqa: F401,F403
from devsite.settings import INSTALLED_APPS as _BASE_APPS

_FAKE_PLATFORM = str(Path(__file__).resolve().parent.parent / "tests_platform" / "fake_platform")
if _FAKE_PLATFORM not in sys.path:
    sys.path.insert(0, _FAKE_PLATFORM)

INSTALLED_APPS = [app for app in _BASE_APPS if app != "completion_aggregator.standalone"] + [
    "openedx.core.djangoapps.content.course_overviews.apps.CourseOverviewsConfig",
    "common.djangoapps.student.apps.StudentConfig",
    "openedx.core.djangoapps.course_groups.apps.CourseGroupsConfig",
    "openedx.core.djangoapps.content.block_structure.apps.BlockStructureConfig",
]

# The app mounted as the LMS mounts it (devsite.urls also serves the standalone demo pages).
ROOT_URLCONF = "tests_platform.urls"

# Stands in for ContentTypeGatingConfig rows (feature-based enrollments enabled for these courses).
FAKE_PLATFORM_CONTENT_TYPE_GATING_COURSES: list = []

COMPLETION_AGGREGATOR_ADAPTER = "completion_aggregator.adapters.edx_platform.EdxPlatformAdapter"
# Eager Celery (no broker): publish reactions run when the transaction commits.
COMPLETION_AGGREGATOR_ASYNC_AGGREGATION = False

# Stands in for the ``openedx.block_structure_transformer`` entry points of the installed
# distributions (edx-platform's own, and this app's, whose editable install may be older).
FAKE_PLATFORM_BLOCK_STRUCTURE_TRANSFORMERS = {
    "library_content": "lms.djangoapps.course_blocks.transformers.library_content:ContentLibraryTransformer",
    "library_content_randomize": (
        "lms.djangoapps.course_blocks.transformers.library_content:ContentLibraryOrderTransformer"
    ),
    "content_type_gate": "openedx.features.content_type_gating.block_transformers:ContentTypeGateTransformer",
    "load_date_data": "edx_when.field_data:DateOverrideTransformer",
    "start_date": "lms.djangoapps.course_blocks.transformers.start_date:StartDateTransformer",
    "user_partitions": "lms.djangoapps.course_blocks.transformers.user_partitions:UserPartitionTransformer",
    "visibility": "lms.djangoapps.course_blocks.transformers.visibility:VisibilityTransformer",
    "grades": "lms.djangoapps.grades.transformer:GradesTransformer",
    "completion_aggregator_annotator": "completion_aggregator.transformers:AggregatorAnnotationTransformer",
}

# The edx-platform release the fake plays ("sumac", "teak", "ulmo", "verawood" or "master"):
# ``get_block_structure_version`` exists on master only. tests_platform runs
# every test under "master" and "sumac" (the ``platform_release`` fixture).
FAKE_PLATFORM_RELEASE = "master"
# The LMS process: published-only reads, as edx-platform's lms/envs (Studio: "cms", "draft-preferred").
SERVICE_VARIANT = "lms"
MODULESTORE_BRANCH = "published-only"
