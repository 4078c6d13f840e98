"""
The freshness benchmark's preparation (``benchmarks/freshness.py``): the database, the dataset, the Redis databases.

Everything here runs in the driver process; :func:`prepare` is untimed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DATABASE = "completion_aggregator_freshness"
CHUNK = 200  # learners per in-process aggregation call while preparing the dataset


def configure_environment(args: argparse.Namespace) -> None:
    """This process: MariaDB database ``--mysql-database`` (created unless reused), eager Celery, no shared cache."""
    try:
        import MySQLdb
    except ImportError:
        sys.exit("benchmarks/freshness.py needs mysqlclient: .venv/bin/pip install -r requirements/mysql.txt")
    host, user = os.environ.get("DB_HOST", "127.0.0.1"), os.environ.get("DB_USER", "root")
    try:
        conn = MySQLdb.connect(
            host=host, port=int(os.environ.get("DB_PORT", "3306")), user=user, passwd=os.environ.get("DB_PASSWORD", "")
        )
        cursor = conn.cursor()
        if not args.reuse:
            cursor.execute(f"DROP DATABASE IF EXISTS `{args.mysql_database}`")
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{args.mysql_database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        conn.close()
    except MySQLdb.Error as exc:
        sys.exit(f"benchmarks/freshness.py: cannot create `{args.mysql_database}` as {user}@{host}: {exc}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="benchmarks.freshness_settings", DJANGO_DEBUG="0", COMPLETION_AGGREGATOR_DB="mysql"
    )
    os.environ.update(DB_NAME=args.mysql_database, DB_HOST=host, DB_USER=user)
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_CACHE_URL", "FRESHNESS_LOG_DIR"):
        os.environ.pop(name, None)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(args: argparse.Namespace) -> str:
    """
    Migrate, build the dataset (or reuse it) and store every learner's aggregates, untimed.

    Returns the course key. The tracking events are off while preparing (a backfill's
    events are not what is measured); the running totals are built first, as on a site.
    """
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from benchmarks import dataset
    from completion_aggregator.standalone.models import Course, Enrollment

    override_settings(
        COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True, COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES=set()
    ).enable()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("migrate", verbosity=0, interactive=False)
    existing = list(Course.objects.values_list("course_key", flat=True))
    if args.reuse and len(existing) == 1:
        course_key = str(existing[0])
        enrolled = Enrollment.objects.filter(course_key=existing[0]).count()
        if enrolled != args.learners:
            sys.exit(
                f"--reuse: `{args.mysql_database}` has {enrolled} learners, not {args.learners}; run without --reuse"
            )
        log(f"reusing {course_key} with {enrolled} learners")
    else:
        if existing:
            sys.exit(f"--reuse: `{args.mysql_database}` is not a freshness database; run without --reuse")
        started = time.monotonic()
        course = dataset.publish_course(args.breadth)
        learners = dataset.create_learners(course, args.learners)
        completions = dataset.create_completions(course, learners, args.seed, args.density)
        dataset.queue_everyone(course, learners)
        course_key = str(course.key)
        log(
            f"dataset: {len(course.leaves)} leaves, {args.learners} learners, {completions} completions "
            f"in {time.monotonic() - started:.0f} s"
        )
    _aggregate_pending(course_key)
    return course_key


def _aggregate_pending(course_key: str) -> None:
    """Store the aggregates of every learner with unresolved stale rows (in this process); refresh index statistics."""
    from django.db import connection

    from completion_aggregator.api import aggregate_learners
    from completion_aggregator.api.totals import is_built, rebuild
    from completion_aggregator.models import Aggregator, StaleCompletion

    started = time.monotonic()
    from opaque_keys.edx.keys import CourseKey

    key = CourseKey.from_string(course_key)
    if not is_built(key):
        rebuild(key)
    names = sorted(set(StaleCompletion.objects.filter(resolved=False).values_list("username", flat=True)))
    for start in range(0, len(names), CHUNK):
        aggregate_learners(key, names[start : start + CHUNK])
    with connection.cursor() as cursor:
        for model in (Aggregator, StaleCompletion):
            cursor.execute(f"ANALYZE TABLE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.fetchall()
    log(f"stored the aggregates of {len(names)} learners in {time.monotonic() - started:.0f} s")


def flush_redis(*urls: str) -> None:
    """Empty the run's Redis databases (the broker's leftover tasks, an earlier run's lock)."""
    import redis

    for url in urls:
        redis.Redis.from_url(url).flushdb()
