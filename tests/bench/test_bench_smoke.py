"""
The benchmark script runs end to end on a tiny dataset and reports every phase.

No time bound: the figures are only checked to exist (``make bench`` is where they are read);
a loaded machine makes this test slower, never red (issue 19).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PHASES = {
    "read_floor": ("seconds", "rows", "rows_per_s", "raw_cursor_seconds", "queries"),
    "write_floor": ("seconds", "rows", "rows_per_s", "queries"),
    "store_all": ("seconds", "learners_per_s", "rows_per_s", "rows_written", "queries_per_learner", "ratio_read_floor", "ratio_write_floor"),
    "reaggregate_forced": ("seconds", "learners_per_s", "queries_per_learner", "ratio_read_floor", "ratio_write_floor"),
    "incremental_service": (
        "seconds",
        "ms_per_learner",
        "cpu_ms_per_learner",
        "queries_per_learner",
        "ratio_read_floor",
        "ratio_forced_reaggregation_per_learner",
        "ratio_full_reads",
        "cpu_ratio_full_reads",
    ),
    "incremental_full_reads": ("seconds", "ms_per_learner", "cpu_ms_per_learner", "ratio_forced_reaggregation_per_learner"),
    "sync_completions": (
        "median_ms",
        "cpu_median_ms",
        "forced_median_ms",
        "full_reads_median_ms",
        "queries_per_completion",
        "ratio_forced_single_learner",
        "cpu_ratio_forced_single_learner",
        "ratio_full_reads",
        "cpu_ratio_full_reads",
    ),
    "single_fresh": ("median_ms", "median_queries", "ratio_read_floor", "ratio_stored_median"),
    "single_stored": ("median_ms", "median_queries", "ratio_read_floor"),
}


def test_benchmark_runs_and_reports_every_phase(tmp_path):
    out = tmp_path / "bench.json"
    env = {key: value for key, value in os.environ.items() if key not in ("COMPLETION_AGGREGATOR_DB", "SQLITE_PATH")}
    completed = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--db", "sqlite", "--learners", "20", "--breadth", "2", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    results = json.loads(out.read_text())
    meta = results["meta"]
    assert (meta["learners"], meta["breadth"], meta["leaves"], meta["aggregators"]) == (20, 2, 16, 15)
    for name, figures in PHASES.items():
        assert name in results["phases"], name
        for figure in figures:
            value = results["phases"][name].get(figure)
            assert isinstance(value, (int, float)) and value > 0, f"{name}.{figure} = {value!r}"
    store = results["phases"]["store_all"]
    assert store["rows_written"] == store["stored_rows"] == 20 * 15
    assert results["phases"]["reaggregate_forced"]["rows_written"] == 0
    assert results["phases"]["incremental_service"]["left_unresolved"] == 0
    # Path-only updates (ADR 0018) did the incremental work; with them off, none did.
    incremental = results["phases"]["incremental_service"]
    assert incremental["path_learners"] == incremental["learners"] == 2
    assert results["phases"]["incremental_full_reads"]["path_learners"] == 0
    assert results["phases"]["sync_completions"]["path_learners"] == 20
    assert results["phases"]["single_fresh"]["learners"] == results["phases"]["single_stored"]["learners"] == 20
    twins = results["phases"]["rest_stats_by_enrollment"]["by_learners"]
    assert set(twins) == {"20", "10"}  # the 1,000-learner twin only exists for larger runs
    assert all(figures["median_ms"] > 0 for figures in twins.values())
    assert results["phases"]["rest_stats_by_enrollment"]["same_queries_as_10_learners"] is True
    assert results["phases"]["rest_stats_by_enrollment"]["kept_totals_agree"] is True
    assert results["table"] and "store all" in completed.stdout
