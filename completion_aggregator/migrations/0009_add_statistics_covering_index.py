"""
Empty on purpose: the statistics' covering index this migration added before release is gone.

Before any release, ``0009`` added ``aggr_crs_block_user_vals_idx`` on ``(course_key,
block_key, user_id, earned, possible, percent)`` for the statistics (ADR 0008). The running
totals of ``0010`` (ADR 0009) replaced it. The index also cost every changed row one more
secondary-index rewrite: about 0.5 ms per learner of an incremental run on MariaDB with
10,000 learners. The migration keeps its name so that development databases which recorded
it stay consistent. Such a database may still hold the index; drop it with
``DROP INDEX aggr_crs_block_user_vals_idx ON completion_aggregator_aggregator``.
"""

from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('completion_aggregator', '0008_add_lookup_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = []
