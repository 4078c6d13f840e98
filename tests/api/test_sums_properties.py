"""
Property tests of the statistics' sums (ADR 0026) against deliberately naive oracles.

* The two sources, the running totals (``kept_sums``) and the row scan (``scanned_sums``),
  give equal sums for the same learners, whatever rows, enrollments and exclusions.
* The statistics computed from the sums (the mean completion, the mean percent, the histogram
  and the per-block statistics) equal a computation learner by learner over their rows.

The oracles walk each learner's rows one by one and share no code with ``api.sums``. The
courses have no structure (a deleted course: learners without a row count with the largest
stored ``possible``), so that the rows alone decide every figure.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opaque_keys.edx.keys import CourseKey

from completion_aggregator.adapters import get_adapter
from completion_aggregator.api import kept_sums, row_sums, stats, totals
from completion_aggregator.api.report_page import whole_percent
from completion_aggregator.api.sums import (
    BlockSums,
    CourseSums,
    bin_floors,
    bin_of,
    histogram,
    mean_completion,
    representative,
)
from completion_aggregator.models import Aggregator
from completion_aggregator.standalone.models import Enrollment

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,  # no example database: every run starts afresh
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
BLOCKS = (("course", "course"), ("chapter", "ch0"), ("chapter", "ch1"), ("sequential", "s0"))
NAMES = ("course", "chapter", "sequential")
COURSES = itertools.count()

#: A stored value: (earned, possible), percent their ratio; quarters and thirds, and the edges.
values = st.tuples(
    st.sampled_from([0.0, 0.25, 1.0 / 3, 0.5, 1.0, 2.0, 2.5, 4.0]), st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.0])
).map(lambda pair: (min(pair), pair[1]))
learner_rows = st.fixed_dictionaries(
    {
        "rows": st.dictionaries(st.sampled_from(range(len(BLOCKS))), values, max_size=len(BLOCKS)),
        "enrolled": st.booleans(),
        "excluded": st.booleans(),
        "leaves": st.booleans(),  # unenrolled after the totals are built (the running totals follow)
    }
)
courses = st.lists(learner_rows, min_size=0, max_size=7)


def _ratio(earned: float, possible: float) -> float:
    return 1.0 if possible <= 0 else min(1.0, max(0.0, earned / possible))


def _store(spec: list[dict]) -> tuple[CourseKey, list]:
    """A course without a structure whose learners have the rows of ``spec``; the totals built."""
    number = next(COURSES)
    course_key = CourseKey.from_string(f"course-v1:Prop+S{number}+R")
    users = []
    for index, item in enumerate(spec):
        user = get_user_model().objects.create(username=f"s{number}u{index}")  # no password: no slow hashing
        if item["enrolled"]:
            Enrollment.objects.create(user=user, course_key=course_key)
        users.append(user)
        Aggregator.objects.bulk_create(
            Aggregator(
                user=user,
                course_key=course_key,
                aggregation_name=BLOCKS[block][0],
                block_key=course_key.make_usage_key(*BLOCKS[block]),
                earned=earned,
                possible=possible,
                percent=_ratio(earned, possible),
                last_modified=T0,
            )
            for block, (earned, possible) in item["rows"].items()
        )
    totals.rebuild(course_key)
    for user, item in zip(users, spec, strict=True):
        if item["enrolled"] and item["leaves"]:
            user.standalone_enrollments.update(is_active=False)
    totals.sync_learners(course_key, [user.pk for user in users])
    return course_key, users


def _counted(spec: list[dict], users: list) -> list[tuple[dict, object]]:
    return [(item, user) for item, user in zip(spec, users, strict=True) if item["enrolled"] and not item["leaves"]]


def _assert_equal_sums(found: CourseSums, expected: CourseSums) -> None:
    assert found.learner_count == expected.learner_count
    assert set(found.blocks) == set(expected.blocks)
    for key, block in expected.blocks.items():
        mine = found.blocks[key]
        assert (mine.aggregation_name, mine.rows, mine.completed) == (
            block.aggregation_name,
            block.rows,
            block.completed,
        )
        assert (mine.earned, mine.possible, mine.percent) == pytest.approx(
            (block.earned, block.possible, block.percent)
        )


@PROPERTY_SETTINGS
@given(spec=courses)
def test_the_running_totals_and_the_row_scan_give_equal_sums(spec):
    course_key, users = _store(spec)
    excluded = {user.pk for item, user in zip(spec, users, strict=True) if item["excluded"]}
    kept = kept_sums.kept_sums(course_key, NAMES, excluded)
    assert kept is not None
    counted = get_adapter().enrolled_users(course_key).exclude(id__in=sorted(excluded))
    scanned = row_sums.scanned_sums(course_key, counted, NAMES)
    _assert_equal_sums(kept, scanned)
    # ... and both equal the oracle: each counted learner's rows added one by one.
    oracle: dict[str, BlockSums] = {}
    for item, user in _counted(spec, users):
        if user.pk in excluded:
            continue
        for block, (earned, possible) in item["rows"].items():
            name, block_id = BLOCKS[block]
            key = str(course_key.make_usage_key(name, block_id))
            percent = _ratio(earned, possible)
            oracle[key] = (oracle.get(key) or BlockSums(name)).plus(
                BlockSums(name, 1, earned, possible, percent, 1 if percent >= 1.0 else 0)
            )
    learners = sum(1 for _item, user in _counted(spec, users) if user.pk not in excluded)
    _assert_equal_sums(kept, CourseSums(learners, oracle))
    assert kept.candidates[:1] == tuple(
        sorted((user for _item, user in _counted(spec, users) if user.pk not in excluded), key=lambda user: user.pk)[:1]
    )


@PROPERTY_SETTINGS
@given(spec=courses, bins=st.sampled_from([1, 2, 3, 7, 10]))
def test_the_statistics_equal_a_learner_by_learner_computation(spec, bins):
    course_key, users = _store(spec)
    counted = [item for item, _user in _counted(spec, users)]
    every_row = [value for item in spec for block, value in item["rows"].items()]
    if not every_row:
        return  # no row and no structure: an unknown course (CourseNotFound, tested elsewhere)
    largest = {
        block: max((item["rows"][block][1] for item in spec if block in item["rows"]), default=None)
        for block in range(len(BLOCKS))
    }
    found = stats.get_course_stats(course_key, aggregation_names=["chapter", "sequential"])
    assert found.learner_count == len(counted)

    def oracle_mean(block: int) -> tuple[float, float]:
        if not counted:
            return 0.0, largest[block] or 0.0
        earned = sum(item["rows"][block][0] if block in item["rows"] else 0.0 for item in counted)
        possible = sum(item["rows"][block][1] if block in item["rows"] else largest[block] or 0.0 for item in counted)
        return earned / len(counted), possible / len(counted)

    assert (found.mean_completion.earned, found.mean_completion.possible) == pytest.approx(oracle_mean(0))
    for stat in found.blocks:
        block = next(index for index, (_name, block_id) in enumerate(BLOCKS) if stat.block_key.endswith(block_id))
        assert (stat.mean_completion.earned, stat.mean_completion.possible) == pytest.approx(oracle_mean(block))
        assert stat.completed_count == sum(
            1 for item in counted if block in item["rows"] and _ratio(*item["rows"][block]) >= 1.0
        )
    assert {stat.block_key for stat in found.blocks} == {
        str(course_key.make_usage_key(*BLOCKS[block])) for block in range(1, len(BLOCKS)) if largest[block] is not None
    }
    # The histogram: each enrolled learner's whole course percent, binned one by one.
    edges = [math.ceil(100 * index / bins) for index in range(bins + 1)]
    expected = [0] * bins
    for item in counted:
        whole = whole_percent(_ratio(*item["rows"][0]) if 0 in item["rows"] else 0.0)
        expected[min(bins - 1, max(index for index in range(bins) if edges[index] <= whole))] += 1
    assert stats.get_completion_histogram(course_key, bins) == tuple(expected)


@settings(max_examples=300, deadline=None, database=None)
@given(
    rows=st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), max_size=12),
    missing=st.integers(0, 5),
    default=st.floats(0, 10),
    bins=st.integers(1, 12),
)
def test_the_pure_statistics_equal_a_learner_by_learner_computation(rows, missing, default, bins):
    """Pure: the functions of api.sums over sums, against each learner's value (no database)."""
    rows = [(min(earned, possible), possible) for earned, possible in rows]
    percents = [_ratio(earned, possible) for earned, possible in rows]
    block = BlockSums(
        "chapter",
        len(rows),
        sum(earned for earned, _possible in rows),
        sum(possible for _earned, possible in rows),
        sum(percents),
        sum(1 for percent in percents if percent >= 1.0),
    )
    learners = len(rows) + missing
    mean = mean_completion(learners, block, default)
    if learners:
        earned = sum(earned for earned, _possible in rows) / learners
        possible = (sum(possible for _earned, possible in rows) + missing * default) / learners
        assert (mean.earned, mean.possible) == pytest.approx((earned, possible))
        assert mean.percent == pytest.approx(_ratio(earned, possible))
    else:
        assert (mean.earned, mean.possible, mean.percent) == (0.0, default, _ratio(0.0, default))
    # The histogram: the rows binned by bin_of (what the database's filters compute), the
    # missing learners in the first bin, against whole_percent learner by learner.
    floors = bin_floors(bins)
    binned = [0] * bins
    for percent in percents:
        binned[bin_of(percent, floors)] += 1
    edges = [math.ceil(100 * index / bins) for index in range(bins + 1)]
    expected = [0] * bins
    for percent in percents + [0.0] * missing:
        expected[max(index for index in range(bins) if edges[index] <= whole_percent(percent))] += 1
    assert histogram(learners, binned) == tuple(expected)


@settings(max_examples=200, deadline=None, database=None)
@given(
    candidates=st.lists(st.tuples(st.integers(1, 50), st.booleans()), unique_by=lambda pair: pair[0], max_size=6),
    viewer=st.none() | st.just((99, True)),
)
def test_the_representative_is_the_first_learner_without_staff_status(candidates, viewer):
    """One rule (ADR 0026): by id, the first non-staff candidate, else the first candidate, else the viewer."""
    users = [SimpleNamespace(pk=pk, is_staff=staff) for pk, staff in candidates]
    asking = SimpleNamespace(pk=viewer[0], is_staff=viewer[1]) if viewer else None
    chosen = representative(users, asking)
    learners = sorted((user for user in users if not user.is_staff), key=lambda user: user.pk)
    if learners:
        assert chosen is learners[0]
    elif users:
        assert chosen is min(users, key=lambda user: user.pk)
    else:
        assert chosen is asking
