"""App configuration of the standalone host."""
from django.apps import AppConfig


class StandaloneConfig(AppConfig):
    """The standalone LMS stand-in: its models, its adapter and the receivers of its signals."""

    name = "completion_aggregator.standalone"
    label = "completion_aggregator_standalone"
    verbose_name = "Completion aggregator: standalone host"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the receivers of the host's signals (publish, enrollment, cohort)."""
        from . import receivers  # noqa: F401  (connects them)
