"""
Block totals in shards (ADR 0020): writers of one course add their changes to different rows.

``BlockTotal.shard`` (part of its unique key), ``TotalShard`` (the rows writers claim) and
``CourseTotal.shards`` (how many a course has). Forwards: every existing total becomes shard 0
(the column's default); the claim rows are created by the first write. Backwards: the shards
of each block are summed into shard 0 before the old unique key comes back, so no total is
lost (the sums are kept; the shard rows become one row per block); the claim rows go.
"""

import opaque_keys.edx.django.models
from django.db import migrations, models
from django.db.models import Sum

SUMS = ("learners", "earned", "possible", "percent", "completed")


def fold_shards(apps, schema_editor):
    """Sum every block's shard rows into its shard 0 row (before the shard column goes)."""
    BlockTotal = apps.get_model("completion_aggregator", "BlockTotal")
    db = schema_editor.connection.alias
    groups = (
        BlockTotal.objects.using(db)
        .filter(shard__gt=0)
        .values_list("course_key", "aggregation_name", "block_key")
        .distinct()
    )
    for course_key, name, block_key in list(groups):
        rows = BlockTotal.objects.using(db).filter(course_key=course_key, aggregation_name=name, block_key=block_key)
        sums = rows.aggregate(**{column: Sum(column) for column in SUMS})
        rows.filter(shard__gt=0).delete()
        BlockTotal.objects.using(db).update_or_create(
            course_key=course_key, aggregation_name=name, block_key=block_key, shard=0, defaults=sums
        )


class Migration(migrations.Migration):
    dependencies = [
        ("completion_aggregator", "0010_add_statistics_totals"),
    ]

    operations = [
        migrations.AddField(
            model_name="blocktotal",
            name="shard",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterUniqueTogether(
            name="blocktotal",
            unique_together={("course_key", "shard", "aggregation_name", "block_key")},
        ),
        migrations.RunPython(migrations.RunPython.noop, fold_shards, elidable=False),
        migrations.AddField(
            model_name="coursetotal",
            name="shards",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="TotalShard",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("shard", models.PositiveSmallIntegerField()),
            ],
            options={
                "unique_together": {("course_key", "shard")},
            },
        ),
    ]
