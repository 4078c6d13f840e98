"""
``benchmarks/freshness.py`` end to end on a tiny dataset: MariaDB, the Redis broker and cache of
the integration tier, a real Celery worker, the follower and two generator processes.

Run by ``make test-integration``. No time bound: the figures are only checked to exist and
every completion to be seen in its learner's course row (``make bench-freshness`` is where
the figures are read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("CELERY_BROKER_URL" not in os.environ, reason="needs a broker: run `make test-integration`"),
]


@pytest.fixture
def database():
    import MySQLdb

    name = os.environ.get("DB_TEST_NAME", "test_completion_aggregator_it") + "_freshness"
    yield name
    conn = MySQLdb.connect(host=os.environ.get("DB_HOST", "127.0.0.1"), user=os.environ.get("DB_USER", "root"))
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def test_freshness_benchmark_runs_and_sees_every_completion(tmp_path, database):
    out = tmp_path / "freshness.json"
    broker = os.environ["CELERY_BROKER_URL"]
    cache = os.environ.get("REDIS_CACHE_URL", broker)
    command = [
        sys.executable, "benchmarks/freshness.py", "--learners", "30", "--breadth", "2", "--rates", "5,20",
        "--duration", "3", "--warmup", "0", "--drain", "120", "--mysql-database", database,
        "--broker", broker, "--cache", cache, "--json", str(out),
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    results = json.loads(out.read_text())
    assert results["check"] == {"learners_with_completions": 30, "rows_not_matching": 0, "unresolved_stale_rows": 0}
    # Eight load generators by default (benchmarks/README.rst, --generators), each exiting cleanly.
    assert results["exit_status"] == {"generator": [0] * 8, "follower": 0, "worker": 0}
    assert [phase["rate"] for phase in results["phases"]] == [5.0, 20.0]
    for phase in results["phases"]:
        lag = phase["lag"]["all"]
        assert phase["sent"] == lag["completions"] > 0 and lag["unseen"] == 0
        assert all(lag[name] > 0 for name in ("p50", "p95", "p99", "max", "stamp_p50"))
        assert lag["stamp_p50"] <= lag["p50"]  # the row's stamp is a lower bound of the lag seen
        for name in ("follower", "worker", "generator"):  # (the database server may be out of sight)
            assert phase["cpu_share"][name] is not None and phase["cpu_ms_per_completion"][name] >= 0
        assert phase["worker_tasks"]["learners"] >= 1 and phase["follower_cycles"]["stale_rows"] >= 1
    assert "p99 at" not in results["verdict"] and results["table"] and "rate/s" in completed.stdout
