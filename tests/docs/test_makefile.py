"""``make test`` runs every step even when one fails, reports them all, and says how long it took."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("status", [0, 3])
def test_make_test_runs_every_step_and_reports_all_with_the_time(tmp_path, status):
    log = tmp_path / "calls.log"
    fake = tmp_path / "fake-tool"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexit {status}\n')
    fake.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    completed = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed-test", "test", f"PYTEST={fake}", f"COVERAGE={fake}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    calls = log.read_text().splitlines()
    assert len(calls) == 3  # tests/, tests_platform/, the coverage report: none skipped
    assert "tests_platform" in calls[1] and calls[2].startswith("report")
    last = completed.stdout.strip().splitlines()[-1]
    if status:
        assert completed.returncode != 0
        assert last.startswith("make test: FAILED: tests/ tests_platform/ coverage (took ")
    else:
        assert completed.returncode == 0
        assert last.startswith("make test: passed: tests/ tests_platform/ coverage (took ")
    assert last.endswith(" s)")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_prints_the_urls_of_the_port_and_host_it_serves_on():
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    completed = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed-test", "demo", "PORT=8765", "HOST=localhost"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert "load_demo --url http://localhost:8765" in completed.stdout
    assert "runserver localhost:8765" in completed.stdout
