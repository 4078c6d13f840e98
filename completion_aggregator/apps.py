"""App configuration, including the edx-platform plugin declaration."""
from importlib import import_module

from django.apps import AppConfig


class CompletionAggregatorAppConfig(AppConfig):
    """completion_aggregator, as a Django app and as an Open edX plugin."""

    name = "completion_aggregator"
    label = "completion_aggregator"
    verbose_name = "Completion aggregator"
    default_auto_field = "django.db.models.AutoField"

    plugin_app = {
        "url_config": {
            "lms.djangoapp": {
                "namespace": "completion_aggregator",
                "regex": r"^completion-aggregator/",
                "relative_path": "urls",
            },
        },
        "settings_config": {
            "lms.djangoapp": {
                "common": {"relative_path": "settings.common"},
                "production": {"relative_path": "settings.production"},
            },
            "cms.djangoapp": {
                "common": {"relative_path": "settings.common"},
                "production": {"relative_path": "settings.production"},
            },
        },
    }

    def ready(self) -> None:
        """Connect the signal receivers and the action boundaries, register the checks and Celery tasks."""
        from . import checks, coalesce, platform_receivers

        import_module(f"{__package__}.receivers")  # imported for its side effect: it connects the signal receivers

        checks.register()

        # The ends of requests and Celery tasks: where one user action's reactions run (ADR 0010).
        coalesce.connect()

        # edx-platform signals and openedx-events, only those importable in this process.
        platform_receivers.connect()
        for tasks in ("aggregation_tasks", "handler_tasks"):  # imported for their side effect: registering the tasks
            import_module(f"{__package__}.tasks.{tasks}")

        # xAPI transformers for our events, only where edx-event-routing-backends is installed.
        from .xapi import register_transformers

        register_transformers()
