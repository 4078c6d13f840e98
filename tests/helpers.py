"""Builders for tests: courses published into the standalone host, learners, completions."""
from __future__ import annotations

from datetime import datetime

from completion.models import BlockCompletion
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey, UsageKey

from completion_aggregator.standalone.models import Enrollment
from completion_aggregator.standalone.publishing import BlockSpec, publish_structure

COURSE = "course-v1:edX+Agg+2026"


def build_course(
    course_key: str = COURSE,
    shape: tuple[int, ...] = (2, 2, 2, 2),
    leaf_type: str = "html",
    extra: dict | None = None,
) -> tuple[CourseKey, list[UsageKey]]:
    """
    Publish a regular course: ``shape`` = (chapters, sequentials, verticals, leaves per vertical).

    Returns the course key and its leaves in course order. ``extra`` maps a block id to
    BlockSpec overrides (``start``, ``visible_to_staff_only``, ``optional_completion``).
    """
    key = CourseKey.from_string(course_key)
    extra = extra or {}
    specs: list[BlockSpec] = []
    leaves: list[UsageKey] = []
    types = ["chapter", "sequential", "vertical", leaf_type]

    def make(block_type: str, block_id: str, children: list[UsageKey]) -> UsageKey:
        usage = key.make_usage_key(block_type, block_id)
        spec = BlockSpec(key=usage, block_type=block_type, children=children, display_name=block_id)
        for name, value in extra.get(block_id, {}).items():
            setattr(spec, name, value)
        specs.append(spec)
        return usage

    def level(depth: int, prefix: str) -> list[UsageKey]:
        count = shape[depth]
        made = []
        for index in range(count):
            block_id = f"{prefix}{types[depth][:2]}{index}"
            if depth == len(shape) - 1:
                usage = make(types[depth], block_id, [])
                leaves.append(usage)
            else:
                usage = make(types[depth], block_id, level(depth + 1, block_id + "_"))
            made.append(usage)
        return made

    root = make("course", "course", level(0, ""))
    publish_structure(key, root, specs, display_name="Aggregation test course")
    return key, leaves


def learner(username: str, course_key: CourseKey | None = None, **fields):
    """Create a user (password ``learner``), enrolled in ``course_key`` when given."""
    user = get_user_model().objects.create_user(username=username, password="learner", email=f"{username}@example.com", **fields)
    if course_key is not None:
        Enrollment.objects.create(user=user, course_key=course_key)
    return user


def complete(user, block_key: UsageKey, value: float = 1.0, modified: datetime | None = None) -> BlockCompletion:
    """Record a completion through edx-completion's documented write path."""
    obj, _created = BlockCompletion.objects.submit_completion(user=user, block_key=block_key, completion=value)
    return obj


def innodb_lock_waits() -> int:
    """
    How many of this test database's MariaDB transactions wait for a row lock now (``INNODB_TRX``).

    Only connections to the current database count, so another client of the same server
    (another test run, a benchmark) cannot change the figure.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t"
            " JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
            " WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
        )
        return cursor.fetchone()[0]


def wait_for_lock_wait(seconds: float = 30) -> bool:
    """
    Poll until one of this database's transactions waits for a row lock (MariaDB tests).

    True once one does; False if none did within ``seconds`` (the test then fails on its own
    assertion about the order of events, never on how long anything took).
    """
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if innodb_lock_waits():
            return True
        time.sleep(0.25)  # InnoDB refreshes INNODB_TRX only if the last read is > 0.1 s old
    return False


def wrote_aggregator_rows(sql: str) -> bool:
    """A ``paused_*`` predicate: the statement that writes Aggregator rows (MariaDB's quoting)."""
    return sql.startswith("INSERT INTO `COMPLETION_AGGREGATOR_AGGREGATOR`")


def paused_aggregation(course_key, username: str, after):
    """
    Aggregate ``username`` in a thread that stops right after the first SQL ``after`` accepts.

    ``after`` gets the statement stripped and upper-cased. Returns the thread, the event that
    lets it go on, and the list its errors land in (MariaDB concurrency tests).
    """
    from completion_aggregator import api

    return paused_call(after, api.aggregate_learners, course_key, [username])


def paused_call(after, function, *args):
    """
    Call ``function(*args)`` in a thread that stops right after the first SQL ``after`` accepts.

    ``after`` gets the statement stripped and upper-cased. Returns the thread, the event that
    lets it go on, and the list its errors land in (MariaDB concurrency tests).
    """
    import threading

    from django.db import connections

    reached, go, errors = threading.Event(), threading.Event(), []

    def pause(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not reached.is_set() and after(sql.lstrip().upper()):
            reached.set()
            go.wait(30)
        return result

    def run():
        try:
            with connections["default"].execute_wrapper(pause):
                function(*args)
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            reached.set()  # a call that ends before its pause must not leave the test waiting
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    assert reached.wait(30), "the call never reached its pause"
    assert not errors, errors
    return thread, go, errors


def in_thread(function, *args):
    """Run ``function(*args)`` in a thread with its own connection; returns the thread and its errors."""
    import threading

    from django.db import connections

    errors: list = []

    def run():
        try:
            function(*args)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors
