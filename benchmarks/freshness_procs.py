"""
The freshness benchmark's processes: a Celery worker, the follower and the load generator.

Each is a subprocess of the benchmark started from the repository root with the run's
environment (:func:`child_env`); the worker's and the follower's logs go to the run's log
directory, where :func:`task_figures` and :func:`cycle_figures` read them back per phase.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def child_env(database: str, broker: str, cache: str, log_dir: Path, settings: dict[str, str]) -> dict[str, str]:
    """The environment of every subprocess: MariaDB database ``database``, the Redis broker and cache, ``settings``."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.freshness_settings",
        DJANGO_DEBUG="0",
        COMPLETION_AGGREGATOR_DB="mysql",
        DB_NAME=database,
        CELERY_BROKER_URL=broker,
        REDIS_CACHE_URL=cache,
        FRESHNESS_LOG_DIR=str(log_dir),
        EVENTS_LOG_PATH=str(log_dir / "events.log"),  # the tracking events, as the LMS's tracking log
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_RESULT_BACKEND", None)
    env.update(settings)
    return env


def wait_for_text(path: Path, text: str, timeout: float, proc: subprocess.Popen) -> None:
    """
    Wait until ``text`` appears in the file ``path`` (a process's log).

    Raises:
        RuntimeError: the process exited first, or ``timeout`` seconds passed (the log's end is in the message).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return
        if proc.poll() is not None:
            raise RuntimeError(
                f"{path.name}: the process exited ({proc.returncode}) before '{text}':\n{content[-3000:]}"
            )
        time.sleep(0.2)
    content = path.read_text(errors="replace") if path.exists() else ""
    raise RuntimeError(f"{path.name}: no '{text}' within {timeout:g} s:\n{content[-3000:]}")


def start_worker(env: dict[str, str], log_dir: Path, concurrency: int) -> subprocess.Popen:
    """``celery -A devsite worker``: the solo pool for one process, prefork with ``concurrency`` children above."""
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "--concurrency", str(concurrency)]
    log = open(log_dir / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "devsite", "worker", *pool, "-l", "info",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "freshness@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for_text(log_dir / "worker.log", " ready.", 120, proc)
    return proc


def start_follower(env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """``manage.py run_aggregator_service --follow``; returns once its first cycle ran (it holds the lock)."""
    out = open(log_dir / "follower.out", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_aggregator_service", "--follow"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for_text(log_dir / "follower.out", "following the stale-row queue", 120, proc)
    return proc


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int | None:
    """Send ``sig`` and wait up to ``timeout`` seconds, then SIGKILL; returns the exit status (None: no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


class Generators:
    """
    The load generator processes (``benchmarks/freshness_load.py``), one thread reading each one's lines.

    ``count`` processes share the load: process ``part`` owns the learners at positions ``part``,
    ``part + count``, … of the seeded order (so each learner's completions come from one
    process, in order), and gets ``1 / count`` of each phase's rate, its schedule shifted by
    ``part / rate`` so that the processes interleave. Every line goes to :attr:`lines`;
    ``None`` there means a process ended.
    """

    def __init__(self, env: dict[str, str], course_key: str, seed: int, log_dir: Path, count: int = 1) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.procs: list[subprocess.Popen] = []
        self.error_paths = [log_dir / f"generator{part}.err" for part in range(count)]
        script = str(ROOT / "benchmarks" / "freshness_load.py")
        for part in range(count):
            proc = subprocess.Popen(
                [sys.executable, script, course_key, str(seed), str(part), str(count)],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=open(self.error_paths[part], "w"), text=True,
            )  # fmt: skip
            threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()
            self.procs.append(proc)
        self.learners = 0
        for _proc in self.procs:
            first = self.lines.get(timeout=600)
            if not first or not first.startswith("ready "):
                raise RuntimeError(f"a generator did not start: {first!r}\n{self.failed()}")
            self.learners += int(first.split()[1])

    @property
    def pids(self) -> tuple[int, ...]:
        """The generator processes' ids."""
        return tuple(proc.pid for proc in self.procs)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of output: the process ended

    def start_phase(self, rate: float, count: int, duration: float) -> None:
        """Ask for one phase: ``count`` completions at ``rate`` per second in all, for at most ``duration`` seconds."""
        parts = len(self.procs)
        for part, proc in enumerate(self.procs):
            assert proc.stdin is not None
            share = count // parts + (1 if part < count % parts else 0)
            # Each process's rate in proportion to its share: all end their schedule together.
            phase = {"rate": rate * max(share, 1) / count, "count": share, "duration": duration, "offset": part / rate}
            proc.stdin.write(json.dumps(phase) + "\n")
            proc.stdin.flush()

    def failed(self) -> str:
        """Why a generator's output ended early (exit statuses and the end of each standard error)."""
        errors = "\n".join(path.read_text(errors="replace")[-2000:] for path in self.error_paths if path.exists())
        return f"a generator stopped (exit statuses {[proc.poll() for proc in self.procs]}):\n{errors}"

    def close(self) -> list[int | None]:
        """End the generators (end of input), then wait for them; returns their exit statuses."""
        for proc in self.procs:
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
        statuses = []
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
            statuses.append(stop(proc, signal.SIGTERM, 30))
        return statuses


TASK_LINE = re.compile(r"aggregate_learners\[[^\]]+\] succeeded in ([0-9.eE+-]+)s: \{'learners': (\d+)")


def log_size(path: Path) -> int:
    """The current size of a log file (0 if absent): where a phase's lines start."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, errors="replace") as log:
            log.seek(offset)
            return log.read()
    except OSError:
        return ""


def task_figures(path: Path, offset: int) -> dict[str, Any]:
    """The aggregation tasks the worker logged since ``offset``: count, learners, and their run times (s)."""
    runs = [(float(seconds), int(learners)) for seconds, learners in TASK_LINE.findall(_read_from(path, offset))]
    if not runs:
        return {"tasks": 0}
    times = sorted(seconds for seconds, _ in runs)
    learners = sum(count for _, count in runs)
    return {
        "tasks": len(runs),
        "learners": learners,
        "learners_per_task": round(learners / len(runs), 1),
        "task_seconds_median": round(times[len(times) // 2], 4),
        "task_seconds_max": round(times[-1], 4),
        "ms_per_learner": round(1000 * sum(times) / learners, 3) if learners else None,
    }


CYCLE_LINE = re.compile(
    r"cycle (\d+): queue (?:oldest ([0-9.]+) s|empty); resolved (\d+); "
    r"read (\d+) stale rows, (\d+) learners, (\d+) tasks"
)


def cycle_figures(path: Path, offset: int) -> dict[str, Any]:
    """The follower's cycles logged since ``offset``: count, rows and tasks dispatched, the largest ``queue oldest``."""
    cycles = CYCLE_LINE.findall(_read_from(path, offset))
    if not cycles:
        return {"cycles": 0}
    oldest = [float(age) for _, age, *_ in cycles if age]
    return {
        "cycles": len(cycles),
        "stale_rows": sum(int(rows) for *_, rows, _learners, _tasks in cycles),
        "tasks": sum(int(tasks) for *_, tasks in cycles),
        "queue_oldest_max": max(oldest) if oldest else None,
    }
