"""
``benchmarks/parallel.py`` runs end to end on a tiny dataset (MariaDB tier: it needs the server).

No time bound: the figures are only checked to exist and the backfills to be correct
(``make bench-parallel`` is where the ratio is read).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB tier (make test-mysql)"),
]


def test_parallel_benchmark_backfills_with_one_and_two_workers(tmp_path):
    out = tmp_path / "parallel.json"
    database = f"{os.environ.get('DB_TEST_NAME', 'test_completion_aggregator')}_parallel_smoke"
    completed = subprocess.run(
        [
            sys.executable,
            "benchmarks/parallel.py",
            "--learners",
            "24",
            "--breadth",
            "2",
            "--rounds",
            "1",
            "--chunk",
            "6",
            "--mysql-database",
            database,
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["meta"]["all_correct"] is True
    assert set(results["by_workers"]) == {"1", "2"}
    for figures in results["by_workers"].values():
        assert figures["median_wall_seconds"] > 0 and figures["errors"] == 0
    [two] = results["rounds"]["2"]
    assert sum(two["chunks_per_worker"]) == 4 and two["rows"] == 24 * 15
    assert "× 1 worker" in completed.stdout


@pytest.fixture(autouse=True)
def _drop_the_benchmark_database():
    yield
    database = f"{os.environ.get('DB_TEST_NAME', 'test_completion_aggregator')}_parallel_smoke"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
