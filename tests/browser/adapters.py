"""A host adapter for the browser tier: the standalone host's data, edx-platform's site origins."""
from completion_aggregator.adapters.edx_platform import EdxPlatformAdapter
from completion_aggregator.standalone.adapter import StandaloneAdapter


class StandaloneWithPlatformOrigins(StandaloneAdapter):
    """
    Courses, enrollments and roles from the standalone host; the progress bar's embedding
    origins computed as in edx-platform (``LMS_ROOT_URL``, ``LEARNING_MICROFRONTEND_URL``, …),
    so that a real browser can check the LMS's allow-list against pages on other origins.
    """

    site_origins = EdxPlatformAdapter.site_origins
