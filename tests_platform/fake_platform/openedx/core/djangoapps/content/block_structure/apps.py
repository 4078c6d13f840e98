from django.apps import AppConfig


class BlockStructureConfig(AppConfig):
    name = "openedx.core.djangoapps.content.block_structure"
    label = "block_structure"

    def ready(self):
        from . import signals  # noqa: F401
