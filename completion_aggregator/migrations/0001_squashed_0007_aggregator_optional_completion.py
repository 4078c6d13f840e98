"""
The schema of openedx-completion-aggregator's migrations 0001-0007, in one step.

A database that already ran those seven migrations (a site switching packages) records
this migration as applied without running it; a new database creates the three tables
exactly as those sites have them.
"""
import django.db.models.deletion
import django.utils.timezone
import model_utils.fields
import opaque_keys.edx.django.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ("completion_aggregator", "0001_initial"),
        ("completion_aggregator", "0002_aggregator_last_modified"),
        ("completion_aggregator", "0003_stalecompletion"),
        ("completion_aggregator", "0004_index_stalecompletion"),
        ("completion_aggregator", "0005_cachegroupinvalidation"),
        ("completion_aggregator", "0006_rename_index_together_to_indexes"),
        ("completion_aggregator", "0007_aggregator_optional_completion"),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Aggregator",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False, verbose_name="created")),
                ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False, verbose_name="modified")),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("aggregation_name", models.CharField(max_length=255)),
                ("block_key", opaque_keys.edx.django.models.UsageKeyField(max_length=255)),
                ("earned", models.FloatField()),
                ("possible", models.FloatField()),
                ("percent", models.FloatField()),
                ("last_modified", models.DateTimeField()),
                ("optional_earned", models.FloatField(default=0.0)),
                ("optional_possible", models.FloatField(default=0.0)),
                ("optional_percent", models.FloatField(default=1.0)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "unique_together": {("course_key", "block_key", "user", "aggregation_name")},
                "indexes": [
                    models.Index(fields=["user", "aggregation_name", "course_key"], name="aggr_name_user_course_idx"),
                    models.Index(fields=["course_key", "aggregation_name", "block_key", "percent"], name="aggr_name_course_block_per_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="StaleCompletion",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False, verbose_name="created")),
                ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False, verbose_name="modified")),
                ("username", models.CharField(max_length=255)),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("block_key", opaque_keys.edx.django.models.UsageKeyField(blank=True, max_length=255, null=True)),
                ("force", models.BooleanField(default=False)),
                ("resolved", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["username", "course_key", "created", "resolved"], name="stale_user_course_resolved_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="CacheGroupInvalidation",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("group", models.CharField(max_length=150, unique=True)),
                ("invalidated_at", models.DateTimeField(db_index=True)),
            ],
        ),
    ]
