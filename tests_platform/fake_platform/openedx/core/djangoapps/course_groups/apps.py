from django.apps import AppConfig


class CourseGroupsConfig(AppConfig):
    name = "openedx.core.djangoapps.course_groups"
    label = "course_groups"
    default_auto_field = "django.db.models.AutoField"
