"""
Unit tests of the completion arithmetic (the rules in ``completion_aggregator/engine.py``).

Pure: only ``completion_aggregator.engine`` and ``completion_aggregator.data``; no database,
no Django settings.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from completion_aggregator.data import AggregateData, BlockData, CompletionMode, CourseStructureData
from completion_aggregator.engine import (
    CourseGraph,
    CourseGraphError,
    aggregate,
    aggregate_changed,
    compile_graph,
)

AGGREGATOR_TYPES = frozenset({"course", "chapter", "sequential", "vertical"})

MODES = {
    "course": CompletionMode.AGGREGATOR,
    "chapter": CompletionMode.AGGREGATOR,
    "sequential": CompletionMode.AGGREGATOR,
    "vertical": CompletionMode.AGGREGATOR,
    "split_test": CompletionMode.AGGREGATOR,  # aggregator mode, but no stored rows
    "library_content": CompletionMode.COMPLETABLE,  # completable with children
    "html": CompletionMode.COMPLETABLE,
    "problem": CompletionMode.COMPLETABLE,
    "video": CompletionMode.COMPLETABLE,
    "discussion": CompletionMode.EXCLUDED,
}


def mode_of(block_type: str) -> CompletionMode:
    """Unknown types are EXCLUDED, never an error."""
    return MODES.get(block_type, CompletionMode.EXCLUDED)


T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def block(key, block_type, *children, optional=False):
    return BlockData(key=key, block_type=block_type, children=tuple(children), optional=optional)


def structure(*blocks, root="course"):
    return CourseStructureData(course_key="course-v1:Org+C+R", root=root, blocks={b.key: b for b in blocks})


def compile_(*blocks, root="course") -> CourseGraph:
    return compile_graph(structure(*blocks, root=root), mode_of, AGGREGATOR_TYPES)


def by_key(results):
    found = {}
    for result in results:
        assert result.block_key not in found, f"duplicate row for {result.block_key}"
        found[result.block_key] = result
    return found


def assert_sums(result: AggregateData, earned, possible, optional_earned=0.0, optional_possible=0.0):
    assert result.earned == pytest.approx(earned)
    assert result.possible == pytest.approx(possible)
    expected_percent = 1.0 if possible == 0 else earned / possible
    assert result.percent == pytest.approx(expected_percent)
    assert result.optional_earned == pytest.approx(optional_earned)
    assert result.optional_possible == pytest.approx(optional_possible)
    expected_optional = 1.0 if optional_possible == 0 else optional_earned / optional_possible
    assert result.optional_percent == pytest.approx(expected_optional)


def simple_course():
    """course > ch1 > seq1 > vert1 > html1, problem1."""
    return compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "seq1"),
        block("seq1", "sequential", "vert1"),
        block("vert1", "vertical", "html1", "problem1"),
        block("html1", "html"),
        block("problem1", "problem"),
    )


# --- completable leaves -------------------------------------------------------------------


def test_completable_leaf_earns_its_value_out_of_one():
    graph = compile_(block("course", "course", "html1"), block("html1", "html"))
    (course,) = aggregate(graph, [("html1", 0.75, at(1))])
    assert course.block_key == "course"
    assert course.aggregation_name == "course"
    assert_sums(course, 0.75, 1.0)


def test_missing_completion_earns_zero():
    graph = compile_(block("course", "course", "html1", "html2"), block("html1", "html"), block("html2", "html"))
    (course,) = aggregate(graph, [("html1", 1.0, at(1))])
    assert_sums(course, 1.0, 2.0)
    assert course.percent == pytest.approx(0.5)


def test_no_completions_at_all():
    results = by_key(aggregate(simple_course(), []))
    for key in ("course", "ch1", "seq1", "vert1"):
        assert_sums(results[key], 0.0, 2.0)
        assert results[key].percent == 0.0
        assert results[key].last_modified is None


@pytest.mark.parametrize(
    "value, expected",
    [(-0.5, 0.0), (-100.0, 0.0), (0.0, 0.0), (0.3, 0.3), (1.0, 1.0), (1.5, 1.0), (42.0, 1.0)],
)
def test_values_are_clamped_to_unit_interval(value, expected):
    graph = compile_(block("course", "course", "html1", "html2"), block("html1", "html"), block("html2", "html"))
    (course,) = aggregate(graph, [("html1", value, at(1)), ("html2", 0.0, at(1))])
    assert_sums(course, expected, 2.0)
    assert 0.0 <= course.percent <= 1.0
    assert course.earned <= course.possible


def test_integer_values_are_accepted():
    graph = compile_(block("course", "course", "html1"), block("html1", "html"))
    (course,) = aggregate(graph, [("html1", 1, None)])
    assert_sums(course, 1.0, 1.0)
    assert isinstance(course.earned, float)


# --- aggregators ------------------------------------------------------------------------


def test_aggregators_sum_their_children():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "seq1", "seq2"),
        block("seq1", "sequential", "html1", "html2"),
        block("seq2", "sequential", "problem1"),
        block("ch2", "chapter", "html3"),
        block("html1", "html"),
        block("html2", "html"),
        block("problem1", "problem"),
        block("html3", "html"),
    )
    completions = [("html1", 1.0, at(1)), ("html2", 0.5, at(2)), ("problem1", 0.25, at(3)), ("html3", 0.0, at(4))]
    results = by_key(aggregate(graph, completions))
    assert set(results) == {"course", "ch1", "ch2", "seq1", "seq2"}
    assert_sums(results["seq1"], 1.5, 2.0)
    assert_sums(results["seq2"], 0.25, 1.0)
    assert_sums(results["ch1"], 1.75, 3.0)
    assert_sums(results["ch2"], 0.0, 1.0)
    assert_sums(results["course"], 1.75, 4.0)
    assert results["course"].percent == pytest.approx(1.75 / 4.0)


def test_aggregation_names_are_reported():
    results = by_key(aggregate(simple_course(), []))
    assert {key: r.aggregation_name for key, r in results.items()} == {
        "course": "course",
        "ch1": "chapter",
        "seq1": "sequential",
        "vert1": "vertical",
    }


def test_empty_aggregator_is_complete():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter"),
        block("ch2", "chapter", "html1"),
        block("html1", "html"),
    )
    results = by_key(aggregate(graph, []))
    assert_sums(results["ch1"], 0.0, 0.0)
    assert results["ch1"].percent == 1.0
    assert_sums(results["ch2"], 0.0, 1.0)
    assert results["ch2"].percent == 0.0
    assert_sums(results["course"], 0.0, 1.0)


def test_course_with_only_excluded_content_is_complete():
    graph = compile_(block("course", "course", "disc1"), block("disc1", "discussion"))
    (course,) = aggregate(graph, [("disc1", 0.0, at(1))])
    assert_sums(course, 0.0, 0.0)
    assert course.percent == 1.0
    assert course.optional_percent == 1.0


# --- excluded blocks and unknown types ----------------------------------------------------


def test_excluded_block_and_its_subtree_contribute_nothing():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "html1", "disc1"),
        block("disc1", "discussion", "vert_in_disc"),
        block("vert_in_disc", "vertical", "html_in_disc"),
        block("html_in_disc", "html"),
        block("html1", "html"),
    )
    results = by_key(aggregate(graph, [("html1", 1.0, at(1)), ("disc1", 1.0, at(2)), ("html_in_disc", 1.0, at(3))]))
    assert set(results) == {"course", "ch1"}  # no row for the vertical below the excluded block
    assert_sums(results["ch1"], 1.0, 1.0)
    assert_sums(results["course"], 1.0, 1.0)
    assert results["course"].last_modified == at(1)
    assert not graph.contains("disc1")
    assert not graph.contains("vert_in_disc")
    assert not graph.contains("html_in_disc")


def test_unknown_type_and_its_subtree_count_as_excluded():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "html1", "mystery1"),
        block("mystery1", "mystery", "seq_in_mystery", "problem_in_mystery"),
        block("seq_in_mystery", "sequential", "html_in_mystery"),
        block("html_in_mystery", "html"),
        block("problem_in_mystery", "problem"),
        block("html1", "html"),
    )
    results = by_key(
        aggregate(graph, [("html1", 0.5, at(1)), ("mystery1", 1.0, at(2)), ("problem_in_mystery", 1.0, at(3))])
    )
    assert set(results) == {"course", "ch1"}
    assert_sums(results["ch1"], 0.5, 1.0)
    assert_sums(results["course"], 0.5, 1.0)


def test_excluded_root_yields_nothing():
    graph = compile_(block("course", "discussion", "html1"), block("html1", "html"))
    assert aggregate(graph, [("html1", 1.0, at(1))]) == []


def test_completable_root_yields_no_rows():
    graph = compile_(block("course", "html"))
    assert aggregate(graph, [("course", 1.0, at(1))]) == []


def test_block_shared_with_excluded_parent_still_counts_through_the_other_parent():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "disc1"),
        block("disc1", "discussion", "html_shared"),
        block("ch2", "chapter", "html_shared"),
        block("html_shared", "html"),
    )
    results = by_key(aggregate(graph, [("html_shared", 1.0, at(5))]))
    assert_sums(results["ch1"], 0.0, 0.0)  # through the excluded block: nothing
    assert results["ch1"].last_modified is None
    assert_sums(results["ch2"], 1.0, 1.0)
    assert_sums(results["course"], 1.0, 1.0)
    assert results["course"].last_modified == at(5)
    assert graph.contains("html_shared")


def test_block_shared_with_unknown_parent_still_counts_through_the_other_parent():
    graph = compile_(
        block("course", "course", "mystery1", "ch1"),
        block("mystery1", "mystery", "ch1", "html_only_in_mystery"),
        block("ch1", "chapter", "html1"),
        block("html1", "html"),
        block("html_only_in_mystery", "html"),
    )
    results = by_key(aggregate(graph, [("html1", 1.0, at(1)), ("html_only_in_mystery", 1.0, at(2))]))
    assert set(results) == {"course", "ch1"}
    assert_sums(results["course"], 1.0, 1.0)
    assert_sums(results["ch1"], 1.0, 1.0)


def test_children_missing_from_the_structure_are_ignored():
    graph = compile_(block("course", "course", "html1", "ghost"), block("html1", "html"))
    (course,) = aggregate(graph, [("html1", 1.0, at(1)), ("ghost", 1.0, at(2))])
    assert_sums(course, 1.0, 1.0)
    assert course.last_modified == at(1)


# --- shared children ----------------------------------------------------------------------


def test_shared_child_counts_once_per_aggregator():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "seq1", "seq2"),
        block("seq1", "sequential", "vert_shared", "html1"),
        block("seq2", "sequential", "vert_shared"),
        block("vert_shared", "vertical", "problem_shared"),
        block("problem_shared", "problem"),
        block("html1", "html"),
    )
    results = by_key(aggregate(graph, [("problem_shared", 1.0, at(1))]))
    assert set(results) == {"course", "ch1", "seq1", "seq2", "vert_shared"}
    assert_sums(results["vert_shared"], 1.0, 1.0)
    assert_sums(results["seq1"], 1.0, 2.0)
    assert_sums(results["seq2"], 1.0, 1.0)
    assert_sums(results["ch1"], 1.0, 2.0)  # not 2/3
    assert_sums(results["course"], 1.0, 2.0)


def test_shared_leaf_under_two_parents_counts_once():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "vert1", "vert2"),
        block("vert1", "vertical", "html_shared"),
        block("vert2", "vertical", "html_shared", "html2"),
        block("html_shared", "html"),
        block("html2", "html"),
    )
    results = by_key(aggregate(graph, [("html_shared", 0.5, at(1)), ("html2", 1.0, at(2))]))
    assert_sums(results["vert1"], 0.5, 1.0)
    assert_sums(results["vert2"], 1.5, 2.0)
    assert_sums(results["ch1"], 1.5, 2.0)
    assert_sums(results["course"], 1.5, 2.0)


def test_child_listed_twice_by_the_same_parent_counts_once():
    graph = compile_(block("course", "course", "html1", "html1"), block("html1", "html"))
    (course,) = aggregate(graph, [("html1", 1.0, at(1))])
    assert_sums(course, 1.0, 1.0)


def test_completion_listed_twice_never_exceeds_possible():
    graph = compile_(block("course", "course", "html1"), block("html1", "html"))
    (course,) = aggregate(graph, [("html1", 1.0, at(1)), ("html1", 1.0, at(2))])
    assert course.earned <= course.possible
    assert course.percent <= 1.0


# --- aggregators outside the aggregation names ---------------------------------------------


def test_unregistered_aggregator_passes_sums_up_without_a_row():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "split1", "html1"),
        block("split1", "split_test", "vert_a", "problem1"),
        block("vert_a", "vertical", "html_a"),
        block("html_a", "html"),
        block("problem1", "problem"),
        block("html1", "html"),
    )
    results = by_key(aggregate(graph, [("html_a", 1.0, at(1)), ("problem1", 0.5, at(2)), ("split1", 1.0, at(3))]))
    assert "split1" not in results
    assert set(results) == {"course", "ch1", "vert_a"}
    assert_sums(results["vert_a"], 1.0, 1.0)
    assert_sums(results["ch1"], 1.5, 3.0)
    assert_sums(results["course"], 1.5, 3.0)
    assert graph.index_of("split1") is None
    assert graph.contains("split1")


def test_aggregation_names_decide_which_rows_exist():
    structure_ = structure(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "vert1"),
        block("vert1", "vertical", "html1"),
        block("html1", "html"),
    )
    graph = compile_graph(structure_, mode_of, {"course", "vertical"})
    results = by_key(aggregate(graph, [("html1", 1.0, at(1))]))
    assert set(results) == {"course", "vert1"}
    assert_sums(results["course"], 1.0, 1.0)


# --- completable blocks with children ---------------------------------------------------


def test_completable_block_with_children_is_a_leaf():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "lib1", "html1"),
        block("lib1", "library_content", "problem_in_lib", "vert_in_lib"),
        block("problem_in_lib", "problem"),
        block("vert_in_lib", "vertical", "html_in_lib"),
        block("html_in_lib", "html"),
        block("html1", "html"),
    )
    results = by_key(
        aggregate(graph, [("lib1", 0.5, at(1)), ("problem_in_lib", 1.0, at(2)), ("html_in_lib", 1.0, at(3))])
    )
    assert set(results) == {"course", "ch1"}  # no row for the vertical inside the leaf
    assert_sums(results["ch1"], 0.5, 2.0)
    assert_sums(results["course"], 0.5, 2.0)
    assert results["course"].last_modified == at(1)
    assert not graph.contains("problem_in_lib")


# --- optional content ---------------------------------------------------------------------


def test_optional_leaves_feed_the_optional_sums_only():
    graph = compile_(
        block("course", "course", "ch1"),
        block("ch1", "chapter", "vert1", "vert2"),
        block("vert1", "vertical", "html1", "html_opt"),
        block("vert2", "vertical", "problem_opt"),
        block("html1", "html"),
        block("html_opt", "html", optional=True),
        block("problem_opt", "problem", optional=True),
    )
    results = by_key(aggregate(graph, [("html1", 0.5, at(1)), ("html_opt", 1.0, at(2)), ("problem_opt", 0.25, at(3))]))
    assert_sums(results["vert1"], 0.5, 1.0, 1.0, 1.0)
    assert_sums(results["vert2"], 0.0, 0.0, 0.25, 1.0)
    assert results["vert2"].percent == 1.0
    assert results["vert2"].optional_percent == pytest.approx(0.25)
    assert_sums(results["ch1"], 0.5, 1.0, 1.25, 2.0)
    assert_sums(results["course"], 0.5, 1.0, 1.25, 2.0)
    assert results["course"].optional_percent == pytest.approx(0.625)


def test_optional_percent_is_one_without_optional_content():
    results = by_key(aggregate(simple_course(), [("html1", 1.0, at(1))]))
    for result in results.values():
        assert result.optional_earned == 0.0
        assert result.optional_possible == 0.0
        assert result.optional_percent == 1.0


def test_optional_values_are_clamped():
    graph = compile_(block("course", "course", "html_opt"), block("html_opt", "html", optional=True))
    (course,) = aggregate(graph, [("html_opt", 3.0, at(1))])
    assert_sums(course, 0.0, 0.0, 1.0, 1.0)
    (course,) = aggregate(graph, [("html_opt", -3.0, at(1))])
    assert_sums(course, 0.0, 0.0, 0.0, 1.0)


def test_optional_flag_on_an_aggregator_is_irrelevant():
    graph = compile_(
        block("course", "course", "vert1"),
        block("vert1", "vertical", "html1", optional=True),
        block("html1", "html"),
    )
    results = by_key(aggregate(graph, [("html1", 1.0, at(1))]))
    assert_sums(results["vert1"], 1.0, 1.0)
    assert_sums(results["course"], 1.0, 1.0)


# --- last_modified --------------------------------------------------------------------------


def test_last_modified_is_the_latest_completion_under_each_aggregator():
    graph = compile_(
        block("course", "course", "ch1", "ch2", "ch3"),
        block("ch1", "chapter", "html1", "html2"),
        block("ch2", "chapter", "html3", "html_opt"),
        block("ch3", "chapter", "html4"),
        block("html1", "html"),
        block("html2", "html"),
        block("html3", "html"),
        block("html4", "html"),
        block("html_opt", "html", optional=True),
    )
    results = by_key(
        aggregate(
            graph,
            [
                ("html1", 1.0, at(10)),
                ("html2", 0.0, at(5)),  # a zero value still counts as a completion
                ("html3", 1.0, None),
                ("html_opt", 1.0, at(30)),  # optional completions count too
                ("elsewhere", 1.0, at(99)),  # not in the graph
            ],
        )
    )
    assert results["ch1"].last_modified == at(10)
    assert results["ch2"].last_modified == at(30)
    assert results["ch3"].last_modified is None
    assert results["course"].last_modified == at(30)


def test_last_modified_is_none_without_completions():
    for result in aggregate(simple_course(), []):
        assert result.last_modified is None


def test_last_modified_ignores_excluded_blocks():
    graph = compile_(
        block("course", "course", "html1", "disc1"),
        block("html1", "html"),
        block("disc1", "discussion"),
    )
    (course,) = aggregate(graph, [("html1", 1.0, at(1)), ("disc1", 1.0, at(50))])
    assert course.last_modified == at(1)


# --- order ----------------------------------------------------------------------------------


def test_results_are_in_course_reading_order():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "seq1", "seq2"),
        block("seq1", "sequential", "vert1", "vert2"),
        block("vert1", "vertical", "html1"),
        block("vert2", "vertical", "html2"),
        block("seq2", "sequential", "vert3"),
        block("vert3", "vertical"),
        block("ch2", "chapter", "seq3"),
        block("seq3", "sequential", "vert4"),
        block("vert4", "vertical", "html4"),
        block("html1", "html"),
        block("html2", "html"),
        block("html4", "html"),
    )
    keys = [r.block_key for r in aggregate(graph, [])]
    assert keys == ["course", "ch1", "seq1", "vert1", "vert2", "seq2", "vert3", "ch2", "seq3", "vert4"]
    assert list(graph.aggregator_keys) == keys


def test_reading_order_follows_children_order_not_key_order():
    graph = compile_(
        block("course", "course", "z", "a", "m"),
        block("z", "chapter"),
        block("a", "chapter"),
        block("m", "chapter"),
    )
    assert [r.block_key for r in aggregate(graph, [])] == ["course", "z", "a", "m"]


def test_shared_block_comes_after_all_its_parents():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "vert_shared"),
        block("ch2", "chapter", "vert_shared"),
        block("vert_shared", "vertical"),
    )
    keys = [r.block_key for r in aggregate(graph, [])]
    assert keys[0] == "course"
    assert sorted(keys) == sorted(["course", "ch1", "ch2", "vert_shared"])
    assert keys.index("vert_shared") > keys.index("ch1")
    assert keys.index("vert_shared") > keys.index("ch2")
    assert keys.index("ch1") < keys.index("ch2")


# --- completions outside the graph ----------------------------------------------------------


def test_completions_for_blocks_not_in_the_graph_are_ignored():
    graph = simple_course()
    baseline = aggregate(graph, [("html1", 1.0, at(1))])
    noisy = aggregate(
        graph,
        [
            ("html1", 1.0, at(1)),
            ("not-a-block", 1.0, at(99)),
            ("course", 1.0, at(99)),  # aggregators have no completion of their own
            ("ch1", 1.0, at(99)),
        ],
    )
    assert noisy == baseline


def test_completions_accept_any_iterable():
    graph = simple_course()
    rows = [("html1", 1.0, at(1)), ("problem1", 0.5, at(2))]
    assert aggregate(graph, iter(rows)) == aggregate(graph, rows)
    assert aggregate(graph, (row for row in rows)) == aggregate(graph, rows)


# --- graph errors ---------------------------------------------------------------------------


def test_cycle_raises_course_graph_error():
    with pytest.raises(CourseGraphError):
        compile_(
            block("course", "course", "ch1"),
            block("ch1", "chapter", "seq1"),
            block("seq1", "sequential", "ch1"),
        )


def test_self_loop_raises_course_graph_error():
    with pytest.raises(CourseGraphError):
        compile_(block("course", "course", "course"))


def test_cycle_back_to_root_raises_course_graph_error():
    with pytest.raises(CourseGraphError):
        compile_(block("course", "course", "ch1"), block("ch1", "chapter", "course"))


def test_cycle_through_an_unregistered_aggregator_raises():
    with pytest.raises(CourseGraphError):
        compile_(
            block("course", "course", "split1"),
            block("split1", "split_test", "vert1"),
            block("vert1", "vertical", "split1"),
        )


def test_course_graph_error_is_a_value_error():
    assert issubclass(CourseGraphError, ValueError)


def test_missing_root_raises_course_graph_error():
    with pytest.raises(CourseGraphError):
        compile_(block("ch1", "chapter"), root="course")


def test_empty_structure_raises_course_graph_error():
    with pytest.raises(CourseGraphError):
        compile_graph(CourseStructureData(course_key="c", root="course", blocks={}), mode_of, AGGREGATOR_TYPES)


def test_diamond_is_not_a_cycle():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "vert1"),
        block("ch2", "chapter", "vert1"),
        block("vert1", "vertical", "html1"),
        block("html1", "html"),
    )
    assert set(graph.aggregator_keys) == {"course", "ch1", "ch2", "vert1"}


# --- incremental recomputation ------------------------------------------------------------


def two_chapter_course():
    return compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "seq1"),
        block("seq1", "sequential", "html1", "problem1"),
        block("ch2", "chapter", "seq2"),
        block("seq2", "sequential", "html2", "html_opt"),
        block("html1", "html"),
        block("problem1", "problem"),
        block("html2", "html"),
        block("html_opt", "html", optional=True),
    )


def stored_from(results):
    return {r.block_key: r for r in results}


def test_aggregate_changed_equals_aggregate_for_a_changed_leaf():
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1)), ("html2", 0.5, at(2))]
    stored = stored_from(aggregate(graph, old))
    new = [("html1", 1.0, at(1)), ("html2", 0.5, at(2)), ("problem1", 1.0, at(3))]
    assert aggregate_changed(graph, new, ["problem1"], stored) == aggregate(graph, new)


def test_aggregate_changed_with_a_changed_optional_leaf():
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1))]
    stored = stored_from(aggregate(graph, old))
    new = [("html1", 1.0, at(1)), ("html_opt", 1.0, at(4))]
    assert aggregate_changed(graph, new, {"html_opt"}, stored) == aggregate(graph, new)


def test_aggregate_changed_with_a_deleted_completion():
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1)), ("html2", 1.0, at(2))]
    stored = stored_from(aggregate(graph, old))
    new = [("html1", 1.0, at(1))]
    assert aggregate_changed(graph, new, ["html2"], stored) == aggregate(graph, new)


def test_aggregate_changed_takes_untouched_aggregators_from_stored():
    graph = two_chapter_course()
    new = [("html1", 1.0, at(1)), ("html2", 1.0, at(2))]
    stored = stored_from(aggregate(graph, new))
    # A sentinel proves ch2/seq2 were not recomputed when only a ch1 leaf changed.
    sentinel = AggregateData(block_key="seq2", aggregation_name="sequential", earned=0.0, possible=1.0, percent=0.0)
    stored["seq2"] = sentinel
    result = by_key(aggregate_changed(graph, new, ["html1"], stored))
    assert result["seq2"] is sentinel
    assert_sums(result["seq1"], 1.0, 2.0)
    assert_sums(result["ch1"], 1.0, 2.0)
    assert_sums(result["course"], 2.0, 3.0, 0.0, 1.0)
    assert result["ch2"] is stored["ch2"]


def test_aggregate_changed_recomputes_every_aggregator_above_a_shared_leaf():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "html_shared"),
        block("ch2", "chapter", "html_shared", "html2"),
        block("html_shared", "html"),
        block("html2", "html"),
    )
    stored = stored_from(aggregate(graph, []))
    new = [("html_shared", 1.0, at(1))]
    assert aggregate_changed(graph, new, ["html_shared"], stored) == aggregate(graph, new)


def test_aggregate_changed_with_no_changes_returns_stored():
    graph = two_chapter_course()
    completions = [("html1", 1.0, at(1))]
    stored = stored_from(aggregate(graph, completions))
    assert aggregate_changed(graph, completions, [], stored) == aggregate(graph, completions)


def test_aggregate_changed_falls_back_when_a_changed_key_is_unknown():
    graph = two_chapter_course()
    new = [("html1", 1.0, at(1)), ("html2", 1.0, at(2))]
    # Stored values that are wrong everywhere: only a full computation gets the right answer.
    stale = {
        key: AggregateData(block_key=key, aggregation_name="x", earned=0.0, possible=99.0, percent=0.0)
        for key in graph.aggregator_keys
    }
    assert aggregate_changed(graph, new, ["html1", "no-such-block"], stale) == aggregate(graph, new)


def test_aggregate_changed_falls_back_when_a_changed_key_is_excluded():
    graph = compile_(
        block("course", "course", "ch1", "disc1"),
        block("ch1", "chapter", "html1"),
        block("disc1", "discussion"),
        block("html1", "html"),
    )
    new = [("html1", 1.0, at(1))]
    stale = {
        key: AggregateData(block_key=key, aggregation_name="x", earned=0.0, possible=99.0, percent=0.0)
        for key in graph.aggregator_keys
    }
    assert aggregate_changed(graph, new, ["disc1"], stale) == aggregate(graph, new)


def test_aggregate_changed_falls_back_when_stored_values_are_missing():
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1))]
    new = [("html1", 1.0, at(1)), ("problem1", 1.0, at(3)), ("html2", 1.0, at(4))]
    stored = stored_from(aggregate(graph, old))
    # Wrong: html2 changed too, but the caller only says problem1; ch2/seq2 are missing so
    # nothing can be taken from stored for them.
    del stored["ch2"]
    del stored["seq2"]
    assert aggregate_changed(graph, new, ["problem1"], stored) == aggregate(graph, new)


def test_aggregate_changed_with_empty_stored_is_a_full_computation():
    graph = two_chapter_course()
    new = [("html1", 1.0, at(1)), ("html2", 0.5, at(2))]
    assert aggregate_changed(graph, new, ["html1"], {}) == aggregate(graph, new)


def test_aggregate_changed_does_not_need_stored_values_of_affected_aggregators():
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1))]
    new = [("html1", 0.0, at(2))]
    stored = stored_from(aggregate(graph, old))
    for key in ("course", "ch1", "seq1"):  # the aggregators above html1 are recomputed anyway
        del stored[key]
    assert aggregate_changed(graph, new, ["html1"], stored) == aggregate(graph, new)


def test_aggregate_changed_for_a_completion_on_an_aggregator_block():
    # Some LMS versions store a BlockCompletion for a vertical; it changes nothing.
    graph = two_chapter_course()
    old = [("html1", 1.0, at(1))]
    new = [("html1", 1.0, at(1)), ("seq2", 1.0, at(2))]
    stored = stored_from(aggregate(graph, old))
    assert aggregate_changed(graph, new, ["seq2"], stored) == aggregate(graph, new)
    assert aggregate(graph, new) == aggregate(graph, old)


# --- CourseGraph ---------------------------------------------------------------------------


def keys_of(graph, indices):
    return {graph.aggregator_keys[i] for i in indices}


def test_aggregators_under_returns_the_subtree():
    graph = compile_(
        block("course", "course", "ch1", "ch2"),
        block("ch1", "chapter", "seq1"),
        block("seq1", "sequential", "split1"),
        block("split1", "split_test", "vert1", "html0"),
        block("vert1", "vertical", "html1"),
        block("ch2", "chapter", "vert1", "vert2", "disc1"),
        block("vert2", "vertical"),
        block("disc1", "discussion", "vert_hidden"),
        block("vert_hidden", "vertical"),
        block("html0", "html"),
        block("html1", "html"),
    )
    assert keys_of(graph, graph.aggregators_under("course")) == set(graph.aggregator_keys)
    assert keys_of(graph, graph.aggregators_under("ch1")) == {"ch1", "seq1", "vert1"}
    assert keys_of(graph, graph.aggregators_under("split1")) == {"vert1"}
    assert keys_of(graph, graph.aggregators_under("ch2")) == {"ch2", "vert1", "vert2"}
    assert keys_of(graph, graph.aggregators_under("vert1")) == {"vert1"}
    assert graph.aggregators_under("html1") == frozenset()
    assert isinstance(graph.aggregators_under("course"), frozenset)


@pytest.mark.parametrize("key", ["no-such-block", "disc1", "vert_hidden"])
def test_aggregators_under_unknown_key_raises_key_error(key):
    graph = compile_(
        block("course", "course", "ch1", "disc1"),
        block("ch1", "chapter"),
        block("disc1", "discussion", "vert_hidden"),
        block("vert_hidden", "vertical"),
    )
    with pytest.raises(KeyError):
        graph.aggregators_under(key)


def test_graph_metadata():
    graph = compile_graph(
        CourseStructureData(
            course_key="course-v1:A+B+C",
            root="course",
            version="v7",
            blocks={
                "course": block("course", "course", "html1", "html_opt", "disc1"),
                "html1": block("html1", "html"),
                "html_opt": block("html_opt", "html", optional=True),
                "disc1": block("disc1", "discussion"),
            },
        ),
        mode_of,
        AGGREGATOR_TYPES,
    )
    assert graph.course_key == "course-v1:A+B+C"
    assert graph.version == "v7"
    assert graph.root == "course"
    assert graph.leaf_count == 2
    assert graph.index_of("course") == 0
    assert graph.index_of("html1") is None
    assert graph.contains("html1")
    assert not graph.contains("disc1")


def test_one_graph_serves_many_learners():
    graph = simple_course()
    first = aggregate(graph, [("html1", 1.0, at(1))])
    second = aggregate(graph, [("problem1", 0.5, at(2))])
    again = aggregate(graph, [("html1", 1.0, at(1))])
    assert first == again
    assert by_key(second)["course"].earned == pytest.approx(0.5)
    assert by_key(first)["course"].earned == pytest.approx(1.0)


def test_locked_leaves_count_in_possible_and_are_summed_apart():
    """ADR 0011: a leaf is locked when it, or every aggregator above it, is; it still counts."""
    from completion_aggregator.engine import locked_figures

    blocks = {
        "c": BlockData("c", "course", ("v1", "v2")),
        "v1": BlockData("v1", "vertical", ("a", "b", "o")),
        "v2": BlockData("v2", "vertical", ("d", "b"), locked=True),
        "a": BlockData("a", "html", locked=True),
        "b": BlockData("b", "html"),  # also under the locked v2, but reachable through the open v1
        "d": BlockData("d", "html"),  # only under the locked v2: locked
        "o": BlockData("o", "html", optional=True, locked=True),  # optional: never in locked figures
    }
    graph = compile_graph(CourseStructureData("c", "c", blocks), MODES.__getitem__, AGGREGATOR_TYPES)
    assert graph.has_locked
    assert graph.possible[0] == 3.0
    rows = [("a", 1.0, None), ("b", 1.0, None), ("d", 0.5, None), ("o", 1.0, None)]
    assert locked_figures(graph, rows).possible == 2.0 and locked_figures(graph, rows).earned == 1.5
    assert locked_figures(graph, rows, "v1").possible == 1.0  # only a below v1
    open_only = compile_graph(
        CourseStructureData("c", "c", {**blocks, "v2": BlockData("v2", "vertical", ("d", "b")), "a": BlockData("a", "html")}),
        MODES.__getitem__,
        AGGREGATOR_TYPES,
    )
    assert not open_only.has_locked
    assert locked_figures(open_only, rows).percent == 1.0
