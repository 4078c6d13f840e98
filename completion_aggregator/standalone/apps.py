"""App configuration of the standalone host."""
from django.apps import AppConfig


class StandaloneConfig(AppConfig):
    """The standalone LMS stand-in."""

    name = "completion_aggregator.standalone"
    label = "completion_aggregator_standalone"
    verbose_name = "Completion aggregator: standalone host"
    default_auto_field = "django.db.models.BigAutoField"
