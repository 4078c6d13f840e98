#!/usr/bin/env python
"""
Benchmark of completion_aggregator's aggregation and read paths (see benchmarks/README.rst).

    python benchmarks/run.py [--db sqlite|mysql] [--breadth 4] [--learners 1000]
                             [--density 0.4] [--seed 1] [--json bench-results.json]

One run builds a fresh database, a deterministic dataset (a breadth**4 course, N enrolled
learners, their completions and the stale rows the write path would have queued), then
measures two floors and every phase on the same data, and prints each figure with its ratio
to the floors.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MYSQL_DATABASE = "completion_aggregator_bench"
CHUNK = 200  # learners per aggregation call (COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE's default)
SINGLE_SAMPLE = 50  # learners timed one by one for the single-learner phases
SYNC_SAMPLE = 50  # learners given one completion each and aggregated one by one (synchronous mode)
INCREMENTAL_SHARE = 0.10  # learners who get one new completion before the service run
FLOOR_REPEATS = 1  # runs of each floor per measurement; floors are measured first and last, the fastest kept
INCREMENTAL_ROUNDS = 3  # service runs measured (the median is reported)
STATS_TWIN_SIZES = (1000, 10)  # enrollments of the twin courses the stats are compared with
STATS_ROUNDS = 7  # stats requests per course, in turns (the median is reported)


# ----------------------------------------------------------------------------------------
# Environment (everything here runs before django.setup())
# ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--db", choices=("sqlite", "mysql"), default="sqlite", help="database (default: sqlite, a fresh temp file)"
    )
    parser.add_argument("--breadth", type=int, default=4, help="children per level: breadth**4 leaves (default 4)")
    parser.add_argument(
        "--shape",
        default=None,
        help="chapters,sequentials,verticals,leaves instead of --breadth (e.g. 8,6,5,4: 960 leaves, 297 aggregators)",
    )
    parser.add_argument("--learners", type=int, default=1000, help="enrolled learners (default 1000)")
    parser.add_argument(
        "--density", type=float, default=0.4, help="share of leaves each learner completed (default 0.4)"
    )
    parser.add_argument("--seed", type=int, default=1, help="dataset seed (default 1)")
    parser.add_argument(
        "--json", default="bench-results.json", help="where to write the results (default bench-results.json)"
    )
    parser.add_argument(
        "--mysql-database",
        default=MYSQL_DATABASE,
        help=f"the MySQL database to drop and create for the run (default {MYSQL_DATABASE})",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="also write a cProfile file per phase into DIR (slows every phase: ratios are then meaningless)",
    )
    args = parser.parse_args(argv)
    if args.breadth < 1:
        parser.error("--breadth must be at least 1")
    if args.shape:
        try:
            args.shape = tuple(int(part) for part in args.shape.split(","))
        except ValueError:
            parser.error("--shape takes four positive integers, e.g. 8,6,5,4")
        if len(args.shape) != 4 or min(args.shape) < 1:
            parser.error("--shape takes four positive integers, e.g. 8,6,5,4")
    if args.learners < 2:
        parser.error("--learners must be at least 2")
    if not 0.0 <= args.density <= 1.0:
        parser.error("--density must be between 0 and 1")
    return args


def configure_environment(args: argparse.Namespace) -> Callable[[], None]:
    """Point devsite.settings at a fresh database; returns the cleanup to run at the end."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "devsite.settings"
    os.environ["DJANGO_DEBUG"] = "0"  # no connection.queries log growing through the run
    # Tasks must run eagerly, in this process, to be measured.
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("CELERY_RESULT_BACKEND", None)
    # Tracking events go to the LMS's default backends (benchmarks/tracking.py), not to the
    # development site's extra log of the checkout.
    os.environ["EVENTS_LOG_PATH"] = ""
    if args.db == "sqlite":
        os.environ.pop("COMPLETION_AGGREGATOR_DB", None)
        tmpdir = tempfile.mkdtemp(prefix="ca-bench-")
        os.environ["SQLITE_PATH"] = os.path.join(tmpdir, "bench.sqlite3")
        return lambda: shutil.rmtree(tmpdir, ignore_errors=True)
    try:
        import MySQLdb
    except ImportError:
        sys.exit(
            "benchmarks/run.py --db mysql needs the MySQL driver (mysqlclient), which is not installed.\n"
            "Install it with:  .venv/bin/pip install -r requirements/mysql.txt"
        )
    host = os.environ.get("DB_HOST", "127.0.0.1")
    port = int(os.environ.get("DB_PORT", "3306"))
    user = os.environ.get("DB_USER", "root")
    try:
        conn = MySQLdb.connect(host=host, port=port, user=user, passwd=os.environ.get("DB_PASSWORD", ""))
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{args.mysql_database}`")
        cursor.execute(f"CREATE DATABASE `{args.mysql_database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.close()
    except MySQLdb.Error as exc:
        sys.exit(
            f"benchmarks/run.py --db mysql: cannot (re)create `{args.mysql_database}` as {user}@{host}:{port}: {exc}"
        )
    os.environ["COMPLETION_AGGREGATOR_DB"] = "mysql"
    os.environ["DB_NAME"] = args.mysql_database
    os.environ.setdefault("DB_HOST", host)
    os.environ.setdefault("DB_USER", user)
    return lambda: None  # the database stays for inspection (EXPLAIN); the next run drops it


# ----------------------------------------------------------------------------------------
# Measuring helpers
# ----------------------------------------------------------------------------------------
class QueryCounter:
    """
    Counts the statements sent to the database (an ``execute_wrapper``).

    It counts exactly what ``CaptureQueriesContext`` counts, without rendering each statement's
    SQL: on SQLite, rendering runs an extra ``SELECT QUOTE(?)…`` per statement, which would
    distort the timings of bulk statements. CaptureQueriesContext is used where SQL is kept.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


PEAK_KB = {"process": 0}  # VmHWM is reset per phase: the process's peak is kept here


def _reset_peak() -> bool:
    PEAK_KB["process"] = max(PEAK_KB["process"], _status_kb("VmHWM") or 0)
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # Linux: reset VmHWM (the peak resident set) to the current RSS
        return True
    except OSError:
        return False


PROFILE_DIR: Path | None = None


@contextmanager
def phase(record: dict, name: str) -> Iterator[QueryCounter]:
    """
    Count queries and record the resident memory before and at peak of the enclosed work
    (not its timing); with ``--profile``, write ``DIR/<name>.prof``.
    """
    from django.db import connection

    gc.collect()
    record["rss_before_mb"] = mb_now()
    can_reset = _reset_peak()
    counter = QueryCounter()
    profiler = None
    if PROFILE_DIR is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        with connection.execute_wrapper(counter):
            yield counter
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(PROFILE_DIR / f"{name}.prof"))
    peak = _status_kb("VmHWM") if can_reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["peak_rss_mb"] = round(peak / 1024, 1)


def mb_now() -> float | None:
    rss = _status_kb("VmRSS")
    return round(rss / 1024, 1) if rss is not None else None


def streaming_cursor(connection):
    """
    A Django cursor whose rows come from the server as they are fetched.

    MySQLdb's default cursor stores a whole result in the client before the first
    ``fetchmany`` (Django's ``iterator()`` included): a floor reading a million rows would then
    be the process's memory peak, growing with the learners, and measure the driver's buffering.
    On MySQL this is an unbuffered ``SSCursor`` (the statement's rows must all be read before
    the next statement); elsewhere the usual cursor, which already streams.
    """
    if connection.vendor != "mysql":
        return connection.cursor()
    import MySQLdb.cursors
    from django.db.backends.mysql.base import CursorWrapper

    connection.ensure_connection()
    return connection._prepare_cursor(CursorWrapper(connection.connection.cursor(MySQLdb.cursors.SSCursor)))


def read_streamed(connection, sql: str, params) -> tuple[int, float]:
    """Run ``sql`` through the bare (streaming) cursor, reading every row: (rows, seconds)."""
    with streaming_cursor(connection) as cursor:
        start = time.perf_counter()
        cursor.execute(sql, params)
        rows = 0
        while True:
            batch = cursor.fetchmany(10000)
            if not batch:
                break
            rows += len(batch)
        return rows, time.perf_counter() - start


@contextmanager
def streamed_iterators(connection) -> Iterator[None]:
    """Make ``QuerySet.iterator()`` read through :func:`streaming_cursor` (the benchmark's own reads only)."""
    if connection.vendor != "mysql":
        yield
        return
    connection.chunked_cursor = lambda: streaming_cursor(connection)
    try:
        yield
    finally:
        del connection.chunked_cursor


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 3)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    global PROFILE_DIR
    args = parse_args(argv)
    if args.profile:
        PROFILE_DIR = Path(args.profile)
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    cleanup = configure_environment(args)
    started = time.time()
    try:
        results = run(args)
    finally:
        cleanup()
    results["meta"]["wall_seconds"] = round(time.time() - started, 1)
    print_table(results)
    path = Path(args.json)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {path}")
    return 0


def run(args: argparse.Namespace) -> dict:
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    # The write path only queues; aggregation happens in the measured calls.
    override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True).enable()
    settings.CELERY_TASK_ALWAYS_EAGER = True

    log(f"migrating a fresh {connection.vendor} database …")
    call_command("migrate", verbosity=0, interactive=False)

    from benchmarks import dataset
    from benchmarks import tracking as bench_tracking

    tracking_log = bench_tracking.install()
    t0 = time.perf_counter()
    course = dataset.publish_course(args.shape or args.breadth)
    learners = dataset.create_learners(course, args.learners)
    completions = dataset.create_completions(course, learners, args.seed, args.density)
    dataset.queue_everyone(course, learners)
    setup_seconds = time.perf_counter() - t0
    log(
        f"dataset: {len(course.leaves)} leaves, {course.aggregators} aggregators, {len(learners)} learners, "
        f"{completions} completions ({completions / len(learners):.1f} per learner) in {setup_seconds:.1f} s"
    )

    meta = {
        "db": args.db,
        "db_vendor": connection.vendor,
        "db_version": _db_version(connection),
        "breadth": args.breadth,
        "shape": list(args.shape) if args.shape else None,
        "learners": len(learners),
        "density": args.density,
        "seed": args.seed,
        "leaves": len(course.leaves),
        "aggregators": course.aggregators,
        "completions": completions,
        "completions_per_learner": round(completions / len(learners), 1),
        "chunk_size": CHUNK,
        "dataset_seconds": round(setup_seconds, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "event_tracking": bench_tracking.DESCRIPTION,
    }
    phases: dict[str, dict] = {}
    bench = Bench(course, learners, args, phases)
    bench.tracking_log = tracking_log
    bench.read_floor()
    bench.write_floor()
    bench.store_all()
    bench.forced_reaggregation()
    bench.incremental_service()
    bench.sync_completions()
    bench.single_learner()
    bench.rest_api()
    # The floors once more: load on a shared machine changes during a run; the faster of the
    # first and last measurement is kept, so a busy spell cannot make the floors look slow.
    bench.read_floor()
    bench.write_floor(keep_rows=True)
    bench.finish_ratios()
    meta["profiled"] = PROFILE_DIR is not None
    meta["tracking_events"] = tracking_log.events
    process_kb = max(PEAK_KB["process"], _status_kb("VmHWM") or 0) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    app_phases = [record for name, record in phases.items() if name not in ("read_floor", "write_floor")]
    meta["app_phases_peak_rss_mb"] = max(record.get("peak_rss_mb") or 0 for record in app_phases)
    every_phase = max(record.get("peak_rss_mb") or 0 for record in phases.values())
    meta["process_peak_rss_mb"] = max(round(process_kb / 1024, 1), every_phase)  # (the kernel's counters lag a little)
    return {"meta": meta, "phases": phases}


def _db_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("select version()")
        return str(cursor.fetchone()[0])


class Bench:
    """The phases, in the order they run; each adds one entry to ``phases``."""

    def __init__(self, course, learners, args, phases: dict) -> None:
        self.course = course
        self.learners = learners
        self.args = args
        self.tracking_log: Any = None  # benchmarks.tracking.TrackingLog, set by run()
        self.phases = phases
        self.n = len(learners)

    # Floors -----------------------------------------------------------------------------
    def read_seconds(self, learners: float) -> float:
        return self.phases["read_floor"]["seconds"] * learners / self.n

    def write_seconds(self, learners: float) -> float:
        return self.phases["write_floor"]["seconds"] * learners / self.n

    def ratios(self, record: dict, seconds: float, learners: float) -> None:
        """Remember what to divide by the floors (scaled to ``learners``) once they are final."""
        record["ratio_basis"] = {"seconds": seconds, "learners": learners}

    def finish_ratios(self) -> None:
        for record in self.phases.values():
            if "ratio_basis" in record:
                self._ratios(record, record["ratio_basis"]["seconds"], record["ratio_basis"]["learners"])

    def _merge_floor(self, name: str, record: dict) -> None:
        """Keep every run of a floor; its figures are those of the fastest run."""
        previous = self.phases.get(name)
        if previous is not None:
            record["runs_seconds"] = previous["runs_seconds"] + record["runs_seconds"]
            record["raw_cursor_runs_seconds"] = previous["raw_cursor_runs_seconds"] + record["raw_cursor_runs_seconds"]
            record["peak_rss_mb"] = max(previous["peak_rss_mb"], record["peak_rss_mb"])
            record["rss_before_mb"] = previous["rss_before_mb"]
        record["seconds"] = min(record["runs_seconds"])
        record["raw_cursor_seconds"] = min(record["raw_cursor_runs_seconds"])
        record["rows_per_s"] = round(record["rows"] / record["seconds"])
        record["learners_per_s"] = round(self.n / record["seconds"], 1)
        record["raw_cursor_rows_per_s"] = round(record["rows"] / record["raw_cursor_seconds"])
        self.phases[name] = record

    def _ratios(self, record: dict, seconds: float, learners: float) -> None:
        """Time ratios to the floors scaled to the same number of learners."""
        read, write = self.read_seconds(learners), self.write_seconds(learners)
        record["ratio_read_floor"] = _ratio(seconds, read)
        record["ratio_write_floor"] = _ratio(seconds, write)
        record["ratio_read_plus_write_floor"] = _ratio(seconds, read + write)
        raw_read = self.phases["read_floor"]["raw_cursor_seconds"] * learners / self.n
        raw_write = self.phases["write_floor"]["raw_cursor_seconds"] * learners / self.n
        record["ratio_raw_read"] = _ratio(seconds, raw_read)
        record["ratio_raw_read_plus_write"] = _ratio(seconds, raw_read + raw_write)

    def read_floor(self) -> None:
        """One query reading every learner's completions of the course, as plain values."""
        from completion.models import BlockCompletion
        from django.db import connection

        log("read floor …")
        query = BlockCompletion.objects.filter(context_key=self.course.key).values_list(
            "user_id", "block_key", "completion", "modified"
        )
        record: dict[str, Any] = {"learners": self.n}
        runs = []
        with phase(record, "read_floor") as counter, streamed_iterators(connection):
            for _repeat in range(FLOOR_REPEATS):
                gc.collect()
                start = time.perf_counter()
                # One statement; rows are consumed as they come (list() of a million
                # UsageKeys would make the floor, not the app, the process's memory peak).
                rows = sum(1 for _row in query.iterator(chunk_size=10000))
                runs.append(time.perf_counter() - start)
        record["runs_seconds"] = [round(t, 4) for t in runs]
        record["queries"] = counter.count // FLOOR_REPEATS
        record["rows"] = rows
        # The same statement through the bare cursor: what the database and driver cost
        # without the ORM turning each block key string into a UsageKey (and, on SQLite,
        # each timestamp string into a datetime).
        sql, params = query.query.sql_with_params()
        runs = []
        for _repeat in range(FLOOR_REPEATS):
            gc.collect()
            _rows, seconds = read_streamed(connection, sql, params)
            runs.append(seconds)
        record["raw_cursor_runs_seconds"] = [round(t, 4) for t in runs]
        self._merge_floor("read_floor", record)

    def write_floor(self, keep_rows: bool = False) -> None:
        """
        bulk_create(update_conflicts=True) of every learner's precomputed rows into an empty table.

        ``keep_rows``: leave the last run's rows in the table (the end of the run: a MySQL
        database stays for inspection with a full aggregate table).
        """
        from django.contrib.auth import get_user_model
        from django.db import connection, transaction
        from django.utils import timezone

        from completion_aggregator.adapters import get_adapter
        from completion_aggregator.api import graph_for
        from completion_aggregator.api.aggregation import aggregator_row
        from completion_aggregator.engine import aggregate
        from completion_aggregator.models import Aggregator

        log("write floor …")
        _empty_aggregators()  # the last measurement follows the phases, which leave rows
        kwargs: dict[str, Any] = {  # the statement shape of the app's upsert
            "update_conflicts": True,
            "update_fields": [
                "earned", "possible", "percent", "optional_earned", "optional_possible", "optional_percent",
                "last_modified", "modified",
            ],
            "batch_size": 1000,
        }
        if connection.features.supports_update_conflicts_with_target:
            kwargs["unique_fields"] = ["course_key", "block_key", "user", "aggregation_name"]
        probe = get_user_model().objects.get(pk=self.learners[0].user_id)
        graph = graph_for(get_adapter().get_course_structure(self.course.key, probe))
        leaves = [str(leaf) for leaf in self.course.leaves]

        def precomputed(chunk) -> list:
            """Exactly the rows store_all will write for these learners (built untimed)."""
            now = timezone.now()
            rows = []
            for learner in chunk:
                completions = _learner_completions(self.args, learner.index, len(leaves))
                for value in aggregate(graph, ((leaves[leaf], v, now) for leaf, v in completions)):
                    rows.append(
                        aggregator_row(
                            learner.user_id, self.course.key, value, value.block_key, value.last_modified or now, now
                        )
                    )
            return rows

        record: dict[str, Any] = {"learners": self.n}
        runs = []
        with phase(record, "write_floor") as counter:
            for _repeat in range(FLOOR_REPEATS):
                seconds = 0.0
                written = queries = 0
                for chunk in _chunks(self.learners, CHUNK):
                    rows = precomputed(chunk)
                    before = counter.count
                    start = time.perf_counter()
                    with transaction.atomic():
                        Aggregator.objects.bulk_create(rows, **kwargs)
                    seconds += time.perf_counter() - start
                    queries += counter.count - before
                    written += len(rows)
                    del rows
                runs.append(seconds)
                assert Aggregator.objects.count() == written == self.n * self.course.aggregators, "write floor rows"
                _empty_aggregators()
        record["runs_seconds"] = [round(t, 4) for t in runs]
        record["queries"] = queries
        record["rows"] = written

        # The same upsert statements (columns, rows per statement, conflict clause) sent with
        # ready parameter tuples through the bare cursor: what the database and driver cost
        # without bulk_create's per-field Python.
        fields = [f for f in Aggregator._meta.concrete_fields if not f.primary_key]
        per_statement = min(1000, max(1, connection.ops.bulk_batch_size(fields, [None] * 1000)))
        quote = connection.ops.quote_name
        table = quote(Aggregator._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        update = [quote(Aggregator._meta.get_field(name).column) for name in kwargs["update_fields"]]
        if connection.vendor == "mysql":
            conflict = " ON DUPLICATE KEY UPDATE " + ", ".join(f"{c} = VALUES({c})" for c in update)
        else:
            unique = ", ".join(quote(Aggregator._meta.get_field(name).column) for name in kwargs["unique_fields"])
            conflict = f" ON CONFLICT({unique}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in update)

        def statement(count: int) -> str:
            return f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([placeholder] * count) + conflict

        full_statement = statement(per_statement)
        runs = []
        for _repeat in range(FLOOR_REPEATS):
            seconds = 0.0
            raw_written = 0
            gc.collect()
            for chunk in _chunks(self.learners, CHUNK):
                now = timezone.now()
                stamp = connection.ops.adapt_datetimefield_value(now)
                values = []
                for row in precomputed(chunk):  # untimed: plain parameter tuples
                    for f in fields:
                        value = getattr(row, f.attname)
                        if isinstance(value, datetime.datetime):
                            value = stamp
                        elif not isinstance(value, (int, float, str)):
                            value = str(value)
                        values.append(value)
                rows = len(values) // len(fields)
                start = time.perf_counter()
                with transaction.atomic(), connection.cursor() as cursor:
                    for first in range(0, rows, per_statement):
                        count = min(per_statement, rows - first)
                        sql = full_statement if count == per_statement else statement(count)
                        cursor.execute(sql, values[first * len(fields) : (first + count) * len(fields)])
                seconds += time.perf_counter() - start
                raw_written += rows
            runs.append(seconds)
            assert Aggregator.objects.count() == raw_written == written, "raw write floor rows"
            if not (keep_rows and _repeat == FLOOR_REPEATS - 1):
                _empty_aggregators()
        record["raw_cursor_runs_seconds"] = [round(t, 4) for t in runs]
        record["rows_per_statement"] = per_statement
        self._merge_floor("write_floor", record)

    # Aggregation ------------------------------------------------------------------------
    def _aggregate_all(self, record: dict, counter: QueryCounter) -> float:
        from completion_aggregator.api import aggregate_learners

        names = [learner.username for learner in self.learners]
        learners = written = 0
        start = time.perf_counter()
        for chunk in _chunks(names, CHUNK):
            result = aggregate_learners(self.course.key, chunk)
            learners += result.learner_count
            written += result.rows_written
        seconds = time.perf_counter() - start
        record["learners_aggregated"] = learners
        record["rows_written"] = written
        return seconds

    def store_all(self) -> None:
        """aggregate_learners over every learner (whole-course stale rows) into an empty table."""
        from completion_aggregator.api.totals import rebuild
        from completion_aggregator.models import Aggregator

        log("store all aggregates into an empty table …")
        # The statistics' totals are kept from here on, as on a site where they are built: an
        # empty table gives zero sums over every enrolled learner, and every phase maintains them.
        rebuild(self.course.key)
        record: dict[str, Any] = {"learners": self.n}
        events_before = self.tracking_log.events
        with phase(record, "store_all") as counter:
            seconds = self._aggregate_all(record, counter)
        record["seconds"] = seconds
        record["tracking_events"] = self.tracking_log.events - events_before
        record["tracking_events_per_learner"] = round(record["tracking_events"] / self.n, 1)
        record["queries"] = counter.count
        record["learners_per_s"] = round(self.n / seconds, 1)
        record["rows_per_s"] = round(record["rows_written"] / seconds)
        record["queries_per_learner"] = round(counter.count / self.n, 3)
        record["stored_rows"] = Aggregator.objects.count()
        self.ratios(record, seconds, self.n)
        self.phases["store_all"] = record

    def forced_reaggregation(self) -> None:
        """mark_course_stale(force=True) then aggregate_learners in chunks, over right rows."""
        from completion_aggregator.api import mark_course_stale

        log("forced re-aggregation over existing rows …")
        record: dict[str, Any] = {"learners": self.n}
        with phase(record, "reaggregate_forced") as counter:
            start = time.perf_counter()
            queued = mark_course_stale(self.course.key, force=True)
            record["mark_seconds"] = time.perf_counter() - start
            record["mark_queries"] = counter.count
            record["aggregate_seconds"] = self._aggregate_all(record, counter)
        record["queued"] = len(queued)
        record["seconds"] = record["mark_seconds"] + record["aggregate_seconds"]
        record["queries"] = counter.count
        record["learners_per_s"] = round(self.n / record["seconds"], 1)
        record["queries_per_learner"] = round(counter.count / self.n, 3)
        record["aggregate_ms_per_learner"] = round(record["aggregate_seconds"] / self.n * 1000, 3)
        self.ratios(record, record["seconds"], self.n)
        self.phases["reaggregate_forced"] = record

    def incremental_service(self) -> None:
        """
        10 % of learners get one new completion each, then one run_service() (eager Celery).

        Done in INCREMENTAL_ROUNDS rounds (different learners each time) and the median round
        reported: a one-second measurement is at the mercy of a shared machine. Each round
        is run twice, in turns on other learners: with path-only updates (ADR 0018), then with
        ``COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES`` off (every completion and row of each
        learner read, as before them). Both are reported as a ratio to the forced
        re-aggregation's time per learner and to each other.
        """
        from django.test.utils import override_settings

        log("incremental service runs …")
        rng = random.Random(f"incremental:{self.args.seed}")
        count = max(1, round(self.n * INCREMENTAL_SHARE))
        rounds: dict[bool, list[dict]] = {True: [], False: []}
        for number in range(INCREMENTAL_ROUNDS):
            for path_only in (True, False):
                chosen = sorted(rng.sample(self.learners, count), key=lambda learner: learner.index)
                suffix = "" if path_only else "_full_reads"
                with override_settings(COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES=path_only):
                    rounds[path_only].append(self._incremental_round(chosen, f"incremental{suffix}{number}"))
        forced = self.phases["reaggregate_forced"]["aggregate_ms_per_learner"]
        for path_only, name in ((True, "incremental_service"), (False, "incremental_full_reads")):
            runs = rounds[path_only]
            record = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
            record["rounds_ms_per_learner"] = [r["ms_per_learner"] for r in runs]
            record["rounds_cpu_ms_per_learner"] = [r["cpu_ms_per_learner"] for r in runs]
            self.ratios(record, record["seconds"], count)
            record["ratio_forced_reaggregation_per_learner"] = _ratio(record["ms_per_learner"], forced)
            self.phases[name] = record
        path, full = self.phases["incremental_service"], self.phases["incremental_full_reads"]
        path["ratio_full_reads"] = _ratio(path["ms_per_learner"], full["ms_per_learner"])
        path["cpu_ratio_full_reads"] = _ratio(path["cpu_ms_per_learner"], full["cpu_ms_per_learner"])

    def _incremental_round(self, chosen: list, label: str) -> dict:
        """One new completion for each of ``chosen``, then one service run, timed (wall and CPU)."""
        from celery.signals import task_postrun

        from benchmarks import dataset
        from completion_aggregator.batch import run_service
        from completion_aggregator.models import StaleCompletion

        count = len(chosen)
        dataset.add_one_completion(self.course, chosen, self.args.seed, label)
        record: dict[str, Any] = {"learners": count}
        results: list[dict] = []

        def collect(retval=None, **_kwargs) -> None:  # the eager tasks' return values
            if isinstance(retval, dict):
                results.append(retval)

        task_postrun.connect(collect, weak=False)
        try:
            with phase(record, label) as counter:
                cpu = time.process_time()
                start = time.perf_counter()
                summary = run_service()
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu
        finally:
            task_postrun.disconnect(collect)
        record["path_learners"] = sum(result.get("path_learners", 0) for result in results)
        record["seconds"] = seconds
        record["cpu_seconds"] = cpu
        record["queries"] = counter.count
        record["service_learners"] = summary.learner_count
        record["stale_rows"] = summary.stale_rows
        record["tasks"] = summary.tasks
        record["ms_per_learner"] = round(seconds / count * 1000, 3)
        record["cpu_ms_per_learner"] = round(cpu / count * 1000, 3)
        record["queries_per_learner"] = round(counter.count / count, 3)
        record["left_unresolved"] = StaleCompletion.objects.filter(resolved=False).count()
        return record

    def sync_completions(self) -> None:
        """
        Synchronous mode: one new completion, then aggregate_learners for that learner alone.

        What the write path does after each completion's commit in synchronous mode, one
        learner at a time (SYNC_SAMPLE learners), timed per completion (wall and CPU): with
        path-only updates, then (another completion each) with them off, then the same
        learners recomputed whole (``force=True``), all in this run.
        """
        from django.test.utils import override_settings

        from benchmarks import dataset
        from completion_aggregator.api import aggregate_learners

        log("synchronous mode: one completion, one learner …")
        rng = random.Random(f"sync:{self.args.seed}")
        sample = sorted(rng.sample(self.learners, min(SYNC_SAMPLE, self.n)), key=lambda learner: learner.index)
        record: dict[str, Any] = {"learners": len(sample)}
        path_learners = 0

        def one_by_one(label: str, force: bool = False) -> tuple[list[float], list[float], int]:
            nonlocal path_learners
            times, cpu_times = [], []
            with phase(record, label) as counter:
                for learner in sample:
                    cpu = time.process_time()
                    start = time.perf_counter()
                    result = aggregate_learners(self.course.key, [learner.username], force=force)
                    times.append((time.perf_counter() - start) * 1000)
                    cpu_times.append((time.process_time() - cpu) * 1000)
                    if label == "sync_completions":
                        path_learners += result.path_learner_count
            return times, cpu_times, counter.count

        dataset.add_one_completion(self.course, sample, self.args.seed, "sync")
        times, cpu_times, queries = one_by_one("sync_completions")
        dataset.add_one_completion(self.course, sample, self.args.seed, "sync_full_reads")
        with override_settings(COMPLETION_AGGREGATOR_PATH_ONLY_UPDATES=False):
            full_times, full_cpu, full_queries = one_by_one("sync_full_reads")
        # The same learners, recomputed whole.
        forced_times, forced_cpu, forced_queries = one_by_one("sync_forced", force=True)
        record["queries"] = queries
        record["full_reads_queries"] = full_queries
        record["forced_queries"] = forced_queries
        record["path_learners"] = path_learners
        record["seconds"] = sum(times) / 1000
        record["median_ms"] = round(statistics.median(times), 3)
        record["cpu_median_ms"] = round(statistics.median(cpu_times), 3)
        record["full_reads_median_ms"] = round(statistics.median(full_times), 3)
        record["full_reads_cpu_median_ms"] = round(statistics.median(full_cpu), 3)
        record["forced_median_ms"] = round(statistics.median(forced_times), 3)
        record["forced_cpu_median_ms"] = round(statistics.median(forced_cpu), 3)
        record["ratio_forced_single_learner"] = _ratio(record["median_ms"], record["forced_median_ms"])
        record["cpu_ratio_forced_single_learner"] = _ratio(record["cpu_median_ms"], record["forced_cpu_median_ms"])
        record["ratio_full_reads"] = _ratio(record["median_ms"], record["full_reads_median_ms"])
        record["cpu_ratio_full_reads"] = _ratio(record["cpu_median_ms"], record["full_reads_cpu_median_ms"])
        record["full_reads_ratio_forced_single_learner"] = _ratio(
            record["full_reads_median_ms"], record["forced_median_ms"]
        )
        record["queries_per_completion"] = round(queries / len(sample), 1)
        forced = self.phases["reaggregate_forced"]["aggregate_ms_per_learner"]
        record["ratio_forced_reaggregation_per_learner"] = _ratio(record["median_ms"], forced)
        self.phases["sync_completions"] = record

    def single_learner(self) -> None:
        """get_course_progress for the same learners: stored answer, then with pending changes."""
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from benchmarks import dataset
        from completion_aggregator.api import get_course_progress

        log("single learner: stored, then fresh …")
        rng = random.Random(f"single:{self.args.seed}")
        sample = sorted(rng.sample(self.learners, min(SINGLE_SAMPLE, self.n)), key=lambda learner: learner.index)
        users = get_user_model().objects.in_bulk([learner.user_id for learner in sample])
        users = [users[learner.user_id] for learner in sample]

        def measure(expect_fresh: bool) -> dict:
            record: dict[str, Any] = {"learners": len(users)}
            get_course_progress(users[0], self.course.key)  # warm-up (read-only)
            with CaptureQueriesContext(connection) as captured:  # untimed: the statements themselves
                get_course_progress(users[0], self.course.key)
            record["sql_of_one_call"] = [query["sql"][:300] for query in captured.captured_queries]
            times, counts = [], []
            with phase(record, "single_fresh" if expect_fresh else "single_stored") as counter:
                for user in users:
                    before = counter.count
                    start = time.perf_counter()
                    progress = get_course_progress(user, self.course.key)
                    times.append((time.perf_counter() - start) * 1000)
                    counts.append(counter.count - before)
                    assert progress.fresh is expect_fresh, f"{user.username}: fresh={progress.fresh}"
            record["times_ms"] = [round(t, 3) for t in times]
            record["median_ms"] = round(statistics.median(times), 3)
            record["p90_ms"] = round(sorted(times)[int(0.9 * (len(times) - 1))], 3)
            record["median_queries"] = statistics.median(counts)
            record["max_queries"] = max(counts)
            record["captured_queries_one_call"] = len(captured.captured_queries)
            record["seconds"] = sum(times) / 1000
            self.ratios(record, record["median_ms"] / 1000, 1)
            return record

        stored = measure(expect_fresh=False)
        dataset.add_one_completion(self.course, sample, self.args.seed, "single")
        fresh = measure(expect_fresh=True)
        fresh["ratio_stored_median"] = _ratio(fresh["median_ms"], stored["median_ms"])
        paired = [f / s for f, s in zip(fresh["times_ms"], stored["times_ms"], strict=True) if s]
        fresh["ratio_stored_paired_median"] = round(statistics.median(paired), 3) if paired else None
        self.phases["single_fresh"] = fresh
        self.phases["single_stored"] = stored

    # REST (optional: only when the v1 API is mounted) ------------------------------------
    def rest_api(self) -> None:
        """The 10k-learner list and stats through django.test.Client, if the API exists."""
        from completion_aggregator.rest_api.v1 import urls as v1_urls

        if not getattr(v1_urls, "urlpatterns", None):
            log("REST API: v1 has no URLs yet; skipped")
            return
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from completion_aggregator.models import Aggregator

        log("REST API …")
        staff = get_user_model().objects.create_user("bench-staff", password="x", is_staff=True)
        client = Client()
        client.force_login(staff)
        base = f"/completion-aggregator/v1/course/{self.course.key}/"
        page_size = 1000 if self.n >= 1000 else max(1, self.n // 4)
        # The raw query a page of stored values needs: every stored row of the course, as values.
        raw_query = Aggregator.objects.filter(course_key=self.course.key)
        for label, requested in (("rest_list_course", ""), ("rest_list_all_levels", "chapter,sequential,vertical")):
            names = ["course", *[n for n in requested.split(",") if n]]
            query = raw_query.filter(aggregation_name__in=names).values_list(
                "user_id", "block_key", "aggregation_name", "earned", "possible", "percent"
            )
            sql, params = query.query.sql_with_params()
            gc.collect()
            raw_rows, raw_seconds = read_streamed(connection, sql, params)
            record: dict[str, Any] = {"learners": self.n, "page_size": page_size, "requested_fields": requested}
            pages = 0
            seen = 0
            decode_seconds = 0.0
            with phase(record, label) as counter:
                # Timed: each request until its response is complete (the API's work). Decoding
                # the JSON is the client's work: timed apart (``client_decode_seconds``).
                seconds = 0.0
                url = f"{base}?page_size={page_size}" + (f"&requested_fields={requested}" if requested else "")
                while url:
                    start = time.perf_counter()
                    response = client.get(url)
                    seconds += time.perf_counter() - start
                    if response.status_code != 200:
                        log(f"REST API: {url} answered {response.status_code}; skipped")
                        return
                    start = time.perf_counter()
                    body = response.json()
                    decode_seconds += time.perf_counter() - start
                    pages += 1
                    seen += len(body.get("results", ()))
                    url = body.get("pagination", {}).get("next") or body.get("next")
                    # Hold one page at a time: the peak is the app's, not ours. The test client
                    # ties each response into reference cycles (request, client, resolver match)
                    # that a server does not keep; collect them, untimed, before the next page.
                    del body, response
                    gc.collect()
            record.update(
                seconds=seconds,
                client_decode_seconds=decode_seconds,
                ratio_raw_query_with_client_decode=_ratio(seconds + decode_seconds, raw_seconds),
                pages=pages,
                results=seen,
                queries=counter.count,
                queries_per_page=round(counter.count / pages, 2),
                raw_query_seconds=raw_seconds,
                raw_query_rows=raw_rows,
                ratio_raw_query=_ratio(seconds, raw_seconds),
            )
            self.ratios(record, seconds, self.n)
            self.phases[label] = record
        stats_url = f"/completion-aggregator/v1/stats/{self.course.key}/?requested_fields=mean,chapter"
        record = {"learners": self.n}
        client.get(stats_url)  # warm-up
        with phase(record, "rest_stats") as counter:
            start = time.perf_counter()
            response = client.get(stats_url)
            record["seconds"] = time.perf_counter() - start
        if response.status_code != 200:
            log(f"REST API: {stats_url} answered {response.status_code}; skipped")
            return
        record["queries"] = counter.count
        record["ms"] = round(record["seconds"] * 1000, 3)
        self.phases["rest_stats"] = record
        self.report_csv(client)
        self.stats_by_enrollment(client)

    def stats_by_enrollment(self, client) -> None:
        """
        The stats of this course against identical twin courses of 1,000 and 10 learners.

        The twins (same structure, the first learners enrolled, the same completion generator)
        are built and aggregated untimed; then the three stats requests are timed in turns,
        STATS_ROUNDS times, and each course's median kept: time and query count against
        enrollment, in one run.
        """
        from benchmarks import dataset
        from completion_aggregator.api import aggregate_learners
        from completion_aggregator.api.totals import rebuild

        sizes = [size for size in STATS_TWIN_SIZES if size < self.n]
        if not sizes:
            return
        log(f"stats against twin courses of {', '.join(map(str, sizes))} learners …")
        courses = {self.n: self.course.key}
        for size in sizes:
            twin = dataset.publish_course(self.args.shape or self.args.breadth, run=f"Twin{size}")
            members = self.learners[:size]
            dataset.enroll(twin, members)
            rebuild(twin.key)  # kept totals, like the main course's
            dataset.create_completions(twin, members, self.args.seed, self.args.density)
            dataset.queue_everyone(twin, members)
            for chunk in _chunks([learner.username for learner in members], CHUNK):
                aggregate_learners(twin.key, chunk)
            courses[size] = twin.key
        stats_url = "/completion-aggregator/v1/stats/{key}/?requested_fields=mean,chapter"
        urls = {size: stats_url.format(key=key) for size, key in courses.items()}
        times: dict[int, list[float]] = {size: [] for size in courses}
        queries: dict[int, list[int]] = {size: [] for size in courses}
        record: dict[str, Any] = {"learners": self.n, "rounds": STATS_ROUNDS}
        for url in urls.values():
            client.get(url)  # warm-up: the mean is cached from here on, as it is in the rest_stats phase
        with phase(record, "rest_stats_by_enrollment") as counter:
            for _round in range(STATS_ROUNDS):
                for size, url in urls.items():
                    before = counter.count
                    start = time.perf_counter()
                    response = client.get(url)
                    times[size].append(time.perf_counter() - start)
                    queries[size].append(counter.count - before)
                    assert response.status_code == 200, f"{url} answered {response.status_code}"
        record["by_learners"] = {
            str(size): {
                "median_ms": round(statistics.median(times[size]) * 1000, 3),
                "runs_ms": [round(t * 1000, 3) for t in times[size]],
                "queries": max(queries[size]),
            }
            for size in courses
        }
        median = {size: statistics.median(times[size]) for size in courses}
        if 1000 in median:
            record["ratio_to_1000_learners"] = _ratio(median[self.n], median[1000])
        if 10 in median:
            record["same_queries_as_10_learners"] = max(queries[self.n]) == max(queries[10])
        # Untimed: the totals every phase kept agree with totals read afresh from the rows.
        from completion_aggregator.api.totals import check

        differences = [problem for key in courses.values() for problem in check(key)]
        record["kept_totals_agree"] = not differences
        if differences:
            log("kept statistics totals differ from the rows: " + "; ".join(differences[:5]))
        self.phases["rest_stats_by_enrollment"] = record

    def report_csv(self, client) -> None:
        """The instructors' CSV of every learner, streamed: time, rows and the memory it adds."""
        url = f"/completion-aggregator/report/{self.course.key}/csv/"
        record: dict[str, Any] = {"learners": self.n}
        with phase(record, "report_csv") as counter:
            start = time.perf_counter()
            response = client.get(url)
            lines = 0
            if response.status_code == 200:
                for chunk in response.streaming_content:  # consumed as it streams, never held whole
                    lines += chunk.count(b"\n")
            record["seconds"] = time.perf_counter() - start
        if response.status_code != 200:
            log(f"report CSV: {url} answered {response.status_code}; skipped")
            return
        record.update(queries=counter.count, lines=lines, ms=round(record["seconds"] * 1000, 3))
        record["rss_growth_mb"] = round(record["peak_rss_mb"] - (record["rss_before_mb"] or 0), 1)
        self.phases["report_csv"] = record


# ----------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------
def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _learner_completions(args, index: int, leaf_count: int):
    from benchmarks import dataset

    return dataset.learner_completions(args.seed, index, leaf_count, args.density)


def _empty_aggregators() -> None:
    from django.db import connection, transaction

    from completion_aggregator.models import Aggregator

    table = connection.ops.quote_name(Aggregator._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"TRUNCATE TABLE {table}")
        else:
            with transaction.atomic():
                cursor.execute(f"DELETE FROM {table}")
    assert not Aggregator.objects.exists()


# ----------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------
RATIO_KEYS = (
    "ratio_read_floor",
    "ratio_write_floor",
    "ratio_read_plus_write_floor",
    "ratio_raw_read",
    "ratio_raw_read_plus_write",
)
RATIO_HEADERS = ("× read floor", "× write floor", "× (r+w)", "× raw read", "× raw (r+w)")


def table_rows(results: dict) -> list[tuple]:
    """(phase, figure, unit, *ratios in RATIO_KEYS order)."""
    p = results["phases"]
    n = results["meta"]["learners"]
    rows: list[tuple] = []

    def add(name, value, unit, record=None):
        record = record or {}
        rows.append((name, value, unit, *(record.get(key) for key in RATIO_KEYS)))

    r, w = p["read_floor"], p["write_floor"]
    read, write, raw_read, raw_write = r["seconds"], w["seconds"], r["raw_cursor_seconds"], w["raw_cursor_seconds"]

    def floor_ratios(seconds):
        return {
            "ratio_read_floor": _ratio(seconds, read),
            "ratio_write_floor": _ratio(seconds, write),
            "ratio_raw_read": _ratio(seconds, raw_read),
        }

    add(f"read floor ({n} learners, 1 query)", read, "s", floor_ratios(read))
    add("  rows read", r["rows_per_s"], "rows/s")
    add("  raw read: same SQL, bare cursor", raw_read, "s", floor_ratios(raw_read))
    add(f"write floor ({w['rows']} rows upserted)", write, "s", floor_ratios(write))
    add("  rows written", w["rows_per_s"], "rows/s")
    add("  raw write: same upserts, bare cursor", raw_write, "s", floor_ratios(raw_write))
    add("  raw rows written", w["raw_cursor_rows_per_s"], "rows/s")
    s = p["store_all"]
    add("store all, empty table", s["seconds"], "s", s)
    add("  learners", s["learners_per_s"], "learners/s")
    add("  rows written", s["rows_per_s"], "rows/s")
    add("  queries", s["queries_per_learner"], "queries/learner")
    f = p["reaggregate_forced"]
    add("forced re-aggregation (rows right)", f["seconds"], "s", f)
    add("  learners", f["learners_per_s"], "learners/s")
    add("  queries", f["queries_per_learner"], "queries/learner")
    add("  rows written", f["rows_written"], "rows")
    i = p["incremental_service"]
    add(f"incremental service run ({i['learners']} learners)", i["ms_per_learner"], "ms/learner", i)
    add("  CPU", i["cpu_ms_per_learner"], "ms/learner")
    add("  × forced re-agg. per learner", i["ratio_forced_reaggregation_per_learner"], "×")
    add("  queries", i["queries_per_learner"], "queries/learner")
    if "incremental_full_reads" in p:
        fr = p["incremental_full_reads"]
        add("  path-only off (full reads)", fr["ms_per_learner"], "ms/learner", fr)
        add("    CPU", fr["cpu_ms_per_learner"], "ms/learner")
        add("    × forced re-agg. per learner", fr["ratio_forced_reaggregation_per_learner"], "×")
        add("  path-only × full reads", i["ratio_full_reads"], "×")
        add("  path-only × full reads, CPU", i["cpu_ratio_full_reads"], "×")
    if "sync_completions" in p:
        sc = p["sync_completions"]
        add(f"sync mode: one completion, one learner ({sc['learners']})", sc["median_ms"], "ms median")
        add("  CPU", sc["cpu_median_ms"], "ms median")
        add("  × the same learner recomputed whole", sc["ratio_forced_single_learner"], "×")
        add("  CPU × recomputed whole", sc["cpu_ratio_forced_single_learner"], "×")
        add("  queries", sc["queries_per_completion"], "queries/completion")
        add("  path-only off (full reads)", sc["full_reads_median_ms"], "ms median")
        add("    CPU", sc["full_reads_cpu_median_ms"], "ms median")
        add("    × the same learner recomputed whole", sc["full_reads_ratio_forced_single_learner"], "×")
        add("  path-only × full reads", sc["ratio_full_reads"], "×")
        add("  path-only × full reads, CPU", sc["cpu_ratio_full_reads"], "×")
    fr, st = p["single_fresh"], p["single_stored"]
    add("single learner, pending changes (fresh)", fr["median_ms"], "ms median", fr)
    add("  queries", fr["median_queries"], "queries")
    add("  × same learners' stored answer", fr["ratio_stored_median"], "×")
    add("single learner, stored answer", st["median_ms"], "ms median", st)
    add("  queries", st["median_queries"], "queries")
    for key, label in (
        ("rest_list_course", "REST list, course level"),
        ("rest_list_all_levels", "REST list, chapter+seq+vert"),
    ):
        if key in p:
            add(f"{label} (page {p[key]['page_size']})", p[key]["seconds"], "s", p[key])
            add("  × raw query of the same rows", p[key]["ratio_raw_query"], "×")
            add("  × raw, with the client's JSON decoding", p[key].get("ratio_raw_query_with_client_decode"), "×")
            add("  queries", p[key]["queries_per_page"], "queries/page")
    if "rest_stats" in p:
        add("REST stats (mean, chapter)", p["rest_stats"]["ms"], "ms")
        add("  queries", p["rest_stats"]["queries"], "queries")
    if "rest_stats_by_enrollment" in p:
        twins = p["rest_stats_by_enrollment"]
        for size, figures in sorted(twins["by_learners"].items(), key=lambda item: -int(item[0])):
            add(f"REST stats, {int(size):,} learners (median of {twins['rounds']})", figures["median_ms"], "ms")
            add("  queries", figures["queries"], "queries")
        if "ratio_to_1000_learners" in twins:
            add(f"  × stats of 1,000 learners ({n:,} learners)", twins["ratio_to_1000_learners"], "×")
    if "report_csv" in p:
        add("report CSV, every learner (streamed)", p["report_csv"]["ms"], "ms")
        add("  lines", p["report_csv"]["lines"], "lines")
        add("  memory added while streaming", p["report_csv"]["rss_growth_mb"], "MB")
    return rows


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        if value >= 100:
            return f"{value:.1f}"
        if value >= 10:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


#: The columns of :func:`table_rows`'s rows, as the JSON results name them.
TABLE_COLUMNS = ("phase", "figure", "unit", *(key.replace("ratio_", "x_") for key in RATIO_KEYS))


def print_table(results: dict) -> None:
    meta = results["meta"]
    rows = table_rows(results)
    results["table"] = [
        dict(zip(TABLE_COLUMNS, row, strict=True)) for row in rows
    ]
    print(
        f"\ncompletion_aggregator benchmark — {meta['db_vendor']} {meta['db_version']}, {meta['cpus']} CPUs, "
        f"breadth {meta['breadth']} ({meta['leaves']} leaves, {meta['aggregators']} aggregators), "
        f"{meta['learners']} learners, {meta['completions_per_learner']} completions/learner, seed {meta['seed']}\n"
    )
    header = ("phase", "figure", "unit", *RATIO_HEADERS)
    text = [header] + [(row[0], _fmt(row[1]), row[2], *(_fmt(x) for x in row[3:])) for row in rows]
    widths = [max(len(row[i]) for row in text) for i in range(len(header))]
    for index, row in enumerate(text):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
        cells += [cell.rjust(widths[i + 3]) for i, cell in enumerate(row[3:])]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(
        f"\nratios: phase time / floor time for the same number of learners. "
        f"dataset {meta['dataset_seconds']} s, whole run {meta['wall_seconds']} s, "
        f"peak RSS: process {meta['process_peak_rss_mb']} MB, app phases {meta['app_phases_peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
