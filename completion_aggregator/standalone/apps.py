"""App configuration of the standalone host."""
from importlib import import_module

from django.apps import AppConfig


class StandaloneConfig(AppConfig):
    """The standalone LMS stand-in: its models, its adapter and the receivers of its signals."""

    name = "completion_aggregator.standalone"
    label = "completion_aggregator_standalone"
    verbose_name = "Completion aggregator: standalone host"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the receivers of the host's signals (publish, enrollment, cohort)."""
        import_module(f"{__package__}.receivers")  # imported for its side effect: it connects them
