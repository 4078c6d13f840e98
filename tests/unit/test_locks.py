"""
The service and cleanup locks (completion_aggregator/locks.py): an owner that is gone loses its lock.

The lock records its owner's host, pid and heartbeat. The next run takes over a lock whose owner
is gone: on the same host, a pid that no longer runs; on any host, a heartbeat older than
``STALE_AFTER_SECONDS``. A live owner is respected. Time is a clock the tests move by hand.
"""
import logging
import socket
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from completion_aggregator import locks
from completion_aggregator.locks import LockHeld, cache_lock

NAME = "COMPLETION_AGGREGATOR_AGGREGATION_LOCK"


class Clock:
    """A clock that moves only when told (seconds since the epoch)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _dead_pid() -> int:
    """The pid of a process of this host that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert child.returncode == 0
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _plant(host: str, pid: int, heartbeat: float, token: str = "theirs") -> None:
    cache.set(NAME, {"token": token, "host": host, "pid": pid, "heartbeat": heartbeat}, 1800)


def test_the_lock_records_its_owner_and_is_released_at_the_end():
    clock = Clock()
    with cache_lock(NAME, 1800, clock=clock) as held:
        record = cache.get(NAME)
        assert record == {"token": held.token, "host": socket.gethostname(), "pid": locks.os.getpid(), "heartbeat": clock.now}
        with pytest.raises(LockHeld):  # a second run of this live process waits its turn
            with cache_lock(NAME, 1800, clock=clock):
                pass
    assert cache.get(NAME) is None


def test_a_dead_pid_on_this_host_is_taken_over_with_a_log_line(caplog):
    clock = Clock()
    pid = _dead_pid()
    _plant(socket.gethostname(), pid, heartbeat=clock.now)  # its heartbeat is still fresh
    with caplog.at_level(logging.WARNING, logger="completion_aggregator"):
        with cache_lock(NAME, 1800, clock=clock) as held:
            assert cache.get(NAME)["token"] == held.token
    assert cache.get(NAME) is None
    message = " ".join(record.getMessage() for record in caplog.records)
    assert f"took over the lock {NAME!r}" in message and f"pid {pid}" in message and "no longer runs" in message


def test_a_stale_heartbeat_from_another_host_is_taken_over(caplog):
    clock = Clock()
    _plant("worker-7.example.com", 12345, heartbeat=clock.now)
    clock.now += locks.STALE_AFTER_SECONDS  # exactly a minute: still alive
    with pytest.raises(LockHeld, match="worker-7.example.com"):
        with cache_lock(NAME, 1800, clock=clock):
            pass
    clock.now += 1
    with caplog.at_level(logging.WARNING, logger="completion_aggregator"):
        with cache_lock(NAME, 1800, clock=clock) as held:
            assert cache.get(NAME)["token"] == held.token
    assert "no heartbeat for 61 s" in caplog.text and "worker-7.example.com" in caplog.text


def test_a_live_owner_on_this_host_is_respected_while_it_beats():
    clock = Clock()
    with cache_lock(NAME, 1800, clock=clock) as held:
        for _minute in range(5):  # a long run: its heartbeat keeps the lock
            clock.now += locks.STALE_AFTER_SECONDS - 1
            assert held.beat()
            with pytest.raises(LockHeld, match="is held by"):
                with cache_lock(NAME, 1800, clock=clock):
                    pass
        assert cache.get(NAME)["heartbeat"] == clock.now


def test_a_live_pid_whose_heartbeat_stopped_is_taken_over(caplog):
    clock = Clock()  # a hung run (or a reused pid): alive, but no heartbeat for over a minute
    _plant(socket.gethostname(), locks.os.getpid(), heartbeat=clock.now, token="hung")
    clock.now += locks.STALE_AFTER_SECONDS - 1
    with pytest.raises(LockHeld):
        with cache_lock(NAME, 1800, clock=clock):
            pass
    assert cache.get(NAME)["token"] == "hung"
    clock.now += 2
    with cache_lock(NAME, 1800, clock=clock) as held:
        assert cache.get(NAME)["token"] == held.token
    assert "no heartbeat for 61 s" in caplog.text


def test_two_runs_taking_over_one_dead_owner_do_not_both_win():
    clock = Clock()
    _plant("worker-7.example.com", 12345, heartbeat=clock.now - 3600, token="dead")
    cache.add(f"{NAME}:takeover:dead", "another-run", 60)  # another run is taking it over right now
    with pytest.raises(LockHeld, match="being taken over"):
        with cache_lock(NAME, 1800, clock=clock):
            pass


def test_an_owner_that_was_taken_over_learns_it_and_leaves_the_new_lock_alone():
    clock = Clock()
    with cache_lock(NAME, 1800, clock=clock) as first:
        cache.set(NAME, {**cache.get(NAME), "host": "elsewhere"}, 1800)  # as seen from another host
        clock.now += locks.STALE_AFTER_SECONDS + 1
        with cache_lock(NAME, 1800, clock=clock) as second:
            assert not first.beat()  # the first run stops at its next batch
            assert cache.get(NAME)["token"] == second.token
        # the second run released its own lock; the first one must not touch a later owner's
        cache.set(NAME, {"token": "third", "host": "elsewhere", "pid": 1, "heartbeat": clock.now}, 1800)
    assert cache.get(NAME)["token"] == "third"


def test_a_lock_written_by_an_older_release_is_respected_until_it_expires():
    cache.set(NAME, "3f2a9c", 1800)  # a bare token: no owner to check
    with pytest.raises(LockHeld):
        with cache_lock(NAME, 1800, clock=Clock()):
            pass


@pytest.mark.django_db
def test_the_service_command_takes_over_a_dead_runs_lock(caplog, capsys):
    _plant("worker-7.example.com", 12345, heartbeat=0.0)  # killed long ago
    with caplog.at_level(logging.WARNING, logger="completion_aggregator"):
        call_command("run_aggregator_service")
    assert "stale rows read: 0" in capsys.readouterr().out
    assert "took over the lock" in caplog.text
    assert cache.get(NAME) is None


@pytest.mark.django_db
def test_the_service_command_respects_a_live_run(capsys):
    with cache_lock(NAME, 1800):
        with pytest.raises(CommandError, match="another run_aggregator_service is running"):
            call_command("run_aggregator_service")
