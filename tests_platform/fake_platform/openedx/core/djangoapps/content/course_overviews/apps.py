from django.apps import AppConfig


class CourseOverviewsConfig(AppConfig):
    name = "openedx.core.djangoapps.content.course_overviews"
    label = "course_overviews"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from . import signals  # noqa: F401
