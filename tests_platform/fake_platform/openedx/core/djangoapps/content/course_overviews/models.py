"""``CourseOverview`` (the fields the aggregator reads)."""
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class CourseOverview(models.Model):
    id = CourseKeyField(db_index=True, primary_key=True, max_length=255)
    display_name = models.TextField(null=True)
    org = models.TextField(max_length=255, default="outdated_entry")
    mobile_available = models.BooleanField(default=False)

    class Meta:
        app_label = "course_overviews"

    def __str__(self):
        return str(self.id)

    @classmethod
    def load_from_module_store(cls, course_id):
        """Create or refresh the overview from the published course."""
        from xmodule.modulestore.django import modulestore

        course = modulestore().get_course(course_id)
        overview, _ = cls.objects.update_or_create(
            id=course_id,
            defaults={
                "display_name": getattr(course, "display_name", None),
                "org": course_id.org,
                "mobile_available": bool(getattr(course, "mobile_available", False)),
            },
        )
        return overview

    @classmethod
    def get_from_id(cls, course_id):
        try:
            return cls.objects.get(id=course_id)
        except cls.DoesNotExist:
            return cls.load_from_module_store(course_id)
