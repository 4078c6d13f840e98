"""
The freshness benchmark's parts that need no broker: the generator's choices and write path,
the watcher's bookkeeping, the figures and the command line (``make bench-freshness`` is
where the figures are read; tests/bench/test_freshness_smoke.py runs it end to end).
"""

from __future__ import annotations

import io
import math
import os
from datetime import UTC, datetime

import pytest
from django.test.utils import override_settings

from benchmarks import freshness, freshness_cpu, freshness_load, freshness_report
from benchmarks.freshness_watch import Sample, Watcher, course_rows_sql, epoch
from completion_aggregator import api
from completion_aggregator.models import Aggregator, StaleCompletion
from tests.helpers import build_course, complete, learner


def test_percentiles_interpolate_and_an_unseen_completion_is_never_a_number():
    assert freshness_report.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert freshness_report.percentile([5.0], 99) == 5.0
    assert freshness_report.percentile([], 50) is None
    values = [float(i) for i in range(99)] + [math.inf]
    assert freshness_report.percentile(values, 50) == 49.5
    assert freshness_report.percentile(values, 99.5) is None  # falls on the unseen one


def test_the_trend_is_the_least_squares_slope():
    assert freshness_report.slope([(0, 1.0), (1, 1.5), (2, 2.0)]) == 0.5
    assert freshness_report.slope([(0, 1.0)]) is None
    assert freshness_report.slope([(3, 1.0), (3, 2.0)]) is None


def _samples(lags, start=1000.0, every=0.5):
    samples = []
    for index, lag in enumerate(lags):
        commit = start + index * every
        sample = Sample(index, 1, commit)
        if lag is not None:
            sample.seen, sample.stamp = commit + lag, commit + lag / 2
        samples.append(sample)
    return samples


def test_lag_figures_leave_the_warm_up_out_of_the_steady_figures_and_count_the_unseen():
    samples = _samples([5.0, 5.0, 1.0, 1.0, 1.0, None])  # committed at +0, +0.5, … +2.5 s
    figures = freshness_report.lag_figures(samples, start=1000.0, warmup=1.0)
    assert figures["all"]["completions"] == 6 and figures["all"]["unseen"] == 1
    steady = figures["steady"]
    assert steady["completions"] == 4 and steady["unseen"] == 1
    assert steady["p50"] == 1.0 and steady["p99"] is None and steady["max"] is None
    assert steady["stamp_p50"] == 0.5
    assert figures["all"]["p50"] == 3.0  # between the 1 s and the 5 s lags of the warm-up
    assert freshness_report.lag_figures(_samples([1.0, 2.0]), 1000.0, 0.0)["all"]["max"] == 2.0


@pytest.mark.parametrize(
    ("sent_per_s", "unseen", "trend", "reasons"),
    [
        (200.0, 0, 0.01, []),
        (150.0, 0, 0.0, ["load below the rate"]),
        (200.0, 1, 0.0, ["completions unseen"]),
        (200.0, 0, 0.3, ["lag growing"]),
    ],
)
def test_a_rate_is_saturated_when_the_load_lags_its_schedule_or_the_lag_grows(sent_per_s, unseen, trend, reasons):
    phase = {"rate": 200.0, "sent_per_s": sent_per_s, "lag": {"steady": {"unseen": unseen, "trend": trend}}}
    assert freshness_report.saturation(phase) == reasons


def _phase(rate, sent_per_s, p99, trend=0.0):
    phase = {
        "rate": rate,
        "sent_per_s": sent_per_s,
        "lag": {"steady": {"unseen": 0, "trend": trend, "p99": p99}},
        "cpu_share": {"machine": 1.0, "cores": 2.0},
        "cpu_ms_per_completion": {"worker": 2.0},
    }
    freshness_report.add_derived(phase)
    return phase


def test_the_verdict_says_when_the_target_rate_was_not_reached():
    met = {"phases": [_phase(50.0, 50.0, 1.8), _phase(200.0, 199.0, 4.2), _phase(500.0, 300.0, 9.0, trend=0.5)]}
    assert freshness_report.verdict(met) == (
        "p99 at 200/s: 4.20 s (meets ≤ 5 s); saturated from 500/s (load below the rate, lag growing)"
    )
    missed = {"phases": [_phase(200.0, 200.0, 7.5)]}
    assert freshness_report.verdict(missed) == "p99 at 200/s: 7.50 s (misses ≤ 5 s); no rate saturated"
    short = {"phases": [_phase(200.0, 120.0, 4.6)]}
    assert freshness_report.verdict(short).startswith("p99 at 200/s not measured: the generators reached 120/s")


def test_the_watcher_sees_each_completion_when_the_course_row_counts_it():
    watcher = Watcher("course-v1:A+B+C", base={7: 10.0, 8: 3.0})
    first, second = watcher.record(7, 1, 100.0), watcher.record(7, 2, 100.5)
    other = watcher.record(8, 1, 100.2)
    stamp = datetime(2026, 1, 1, 0, 0, 1, 500000)  # naive: UTC, as stored with USE_TZ
    assert watcher.apply([(7, 11.0, stamp), (8, 3.0, stamp)], seen=101.0) == 1
    assert (first.seen, first.stamp) == (101.0, epoch(stamp))
    assert second.seen is None and other.seen is None and watcher.unseen == 2
    assert watcher.apply([(7, 12.0, stamp), (8, 4.0, stamp)], seen=102.0) == 2
    assert second.lag == 1.5 and watcher.pending == {}
    assert epoch(stamp) == datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC).timestamp()


def test_the_poll_statement_reads_course_rows_of_the_given_learners_only():
    sql = course_rows_sql("completion_aggregator_aggregator", 3)
    assert sql.count("%s") == 4 and "IN (%s, %s, %s)" in sql and "'course'" in sql


def test_cpu_shares_are_cpu_seconds_over_wall_seconds():
    first = freshness_cpu.Snapshot(10.0, {"worker": 1.0, "gone": 2.0}, machine_busy=100.0, machine_total=400.0)
    last = freshness_cpu.Snapshot(12.0, {"worker": 2.5, "gone": None}, machine_busy=103.0, machine_total=404.0)
    assert freshness_cpu.shares(first, last) == {"worker": 0.75, "gone": None, "machine": 1.5, "cores": 2.0}
    own = freshness_cpu.process_seconds(os.getpid(), descendants=False)
    assert own is not None and own > 0
    busy, total = freshness_cpu.machine_seconds()
    assert 0 < busy <= total
    snapshot = freshness_cpu.snapshot({"me": os.getpid(), "both": (os.getpid(), os.getpid()), "none": None}, 1.0)
    assert snapshot.processes["none"] is None and snapshot.processes["both"] >= 2 * own


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rates", "50,0"], "expected positive completions per second"),
        (["--rates", "fast"], "expected positive completions per second"),
        (["--poll", "0"], "--poll must be from 0.01 to 10 seconds"),
        (["--warmup", "60"], "--warmup must be from 0 to below --duration"),
        (["--broker", "amqp://localhost"], "--broker must be a redis:// URL"),
        (["--density", "1"], "--density must be from 0 to below 1"),
    ],
)
def test_bad_options_stop_with_a_message_not_a_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        freshness.parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_default_options_are_the_issues_run():
    args = freshness.parse_args([])
    assert (args.learners, args.rates, args.concurrency) == (10000, [50.0, 200.0, 500.0], 2)


def test_the_default_generators_need_at_most_25_completions_per_second_each_for_the_issues_200():
    # A generator commits one completion at a time; on the shared machine one took 20-70 ms
    # (the commit's fsync alone 4-16 ms), so two could never send 200 per second.
    args = freshness.parse_args([])
    assert 200 / args.generators <= 25


class _Picks:
    """A stand-in for the generator's learners: a fixed list of (user, leaf) picks."""

    def __init__(self, picks):
        self.picks = list(picks)
        self.sent: dict[int, int] = {}

    def next(self):
        return self.picks.pop(0) if self.picks else None


class _User:
    def __init__(self, pk):
        self.pk = pk


def test_a_phase_sends_at_most_count_completions_and_numbers_each_learners():
    alex, bo = _User(1), _User(2)
    learners = _Picks([(alex, "a"), (bo, "b"), (alex, "c"), (bo, "d")])
    out, calls = io.StringIO(), []
    sent, seconds, late = freshness_load.run_phase(
        learners, 10000.0, 3, 60.0, out, submit=lambda *call: calls.append(call)
    )
    assert sent == 3 and seconds > 0 and late >= 0
    assert calls == [(alex, "a"), (bo, "b"), (alex, "c")]
    assert [line.split()[:3] for line in out.getvalue().splitlines()] == [
        ["c", "1", "1"],
        ["c", "2", "1"],
        ["c", "1", "2"],
    ]
    # Out of learners with leaves left: the phase ends early.
    assert freshness_load.run_phase(_Picks([]), 10000.0, 5, 60.0, io.StringIO(), submit=None)[0] == 0


@pytest.mark.django_db
def test_the_generator_splits_the_learners_and_picks_only_leaves_not_done_yet():
    course_key, leaves = build_course(shape=(1, 1, 2, 2))  # 4 leaves
    users = [learner(f"gen{i}", course_key) for i in range(4)]
    for leaf in leaves[:3]:
        complete(users[0], leaf)
    parts = [freshness_load.Learners(str(course_key), seed=3, part=part, parts=2) for part in range(2)]
    assert sorted(parts[0].order + parts[1].order) == sorted(user.pk for user in users)
    assert not set(parts[0].order) & set(parts[1].order)
    picked: dict[int, list] = {}
    for part in parts:
        while (pick := part.next()) is not None:
            picked.setdefault(pick[0].pk, []).append(pick[1])
    assert picked[users[0].pk] == [leaves[3]]  # the one leaf left
    for user in users[1:]:
        assert sorted(map(str, picked[user.pk])) == sorted(map(str, leaves))  # each leaf once


@pytest.mark.django_db
def test_a_generated_completion_is_committed_with_its_stale_row_and_counts_one_in_the_course_row():
    course_key, leaves = build_course(shape=(1, 1, 2, 2))
    user = learner("gen", course_key)
    complete(user, leaves[0])
    api.aggregate_learners(course_key, [user.username])
    before = Aggregator.objects.get(user=user, course_key=course_key, aggregation_name="course").earned
    with override_settings(COMPLETION_AGGREGATOR_ASYNC_AGGREGATION=True):
        learners = freshness_load.Learners(str(course_key), seed=1)
        out = io.StringIO()
        assert freshness_load.run_phase(learners, 10000.0, 1, 60.0, out)[0] == 1  # the real submit_completion
    _c, user_id, k, _commit = out.getvalue().split()
    assert (int(user_id), int(k)) == (user.pk, 1)
    stale = StaleCompletion.objects.get(username=user.username, resolved=False)
    assert stale.block_key in leaves[1:]
    api.aggregate_learners(course_key, [user.username])
    assert Aggregator.objects.get(user=user, course_key=course_key, aggregation_name="course").earned == before + 1


def test_other_users_share_and_the_capacity_estimates_come_from_cpu_time():
    phase = {
        "rate": 200.0,
        "sent_per_s": 200.0,
        "lag": {"steady": {"unseen": 0, "trend": 0.0}},
        "cpu_share": {
            "follower": 0.1,
            "worker": 0.5,
            "generator": 0.4,
            "database": 0.6,
            "watcher": 0.1,
            "machine": 1.9,
            "cores": 2.0,
        },
        "cpu_ms_per_completion": {"follower": 0.5, "worker": 2.5, "generator": 2.0, "database": 3.0, "watcher": 0.5},
    }
    freshness_report.add_derived(phase)
    assert phase["cpu_share"]["others"] == 0.2
    assert phase["capacity_per_s"] == {"worker_process": 400.0, "machine": 235.3}
    assert phase["saturated"] is False and phase["saturation"] == []


def test_a_long_poll_spaces_the_next_ones_out():
    watcher = Watcher("course-v1:A+B+C", base={})
    assert watcher.interval(0.1) == 0.1
    watcher.last_poll_cpu_seconds = 0.05  # a backlog: the poll read thousands of rows
    assert watcher.interval(0.1) == 0.5
