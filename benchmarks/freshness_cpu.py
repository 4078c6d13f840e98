"""
CPU time of processes and of the machine, read from Linux's ``/proc`` (the freshness benchmark).

A process's CPU time is ``utime + stime`` of ``/proc/<pid>/stat`` (fields 14 and 15, in clock
ticks of ``SC_CLK_TCK``), plus ``cutime + cstime`` (its reaped children) and the same of its
live descendants, so that a Celery worker with prefork children counts as one. A *share* is
CPU seconds over wall seconds: 1.0 is one core busy the whole time (a 2-core machine has 2.0).
The machine's busy time is the first line of ``/proc/stat`` minus ``idle`` and ``iowait``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (None: no such process)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    """Live children of ``pid`` (``/proc/<pid>/task/*/children``; empty where unsupported)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def process_seconds(pid: int, descendants: bool = True) -> float | None:
    """
    CPU seconds used so far by ``pid`` and, with ``descendants``, its reaped children and live descendants.

    Returns None when the process does not exist (or ``/proc`` is not there).
    """
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    ticks = sum(int(value) for value in fields[11 : 15 if descendants else 13])
    total = ticks / TICK
    for child in _children(pid) if descendants else ():
        total += process_seconds(child) or 0.0
    return total


def machine_seconds() -> tuple[float, float]:
    """(busy CPU seconds of every core, elapsed CPU seconds of every core) since boot, from ``/proc/stat``."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (total - idle) / TICK, total / TICK


def find_process(names: tuple[str, ...] = ("mariadbd", "mysqld")) -> int | None:
    """The pid of the first process whose command name is one of ``names`` (the database server), or None."""
    try:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    for pid in sorted(pids):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() in names:
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Snapshot:
    """CPU seconds of the named processes and of the machine at one moment (``wall``: ``time.monotonic()``)."""

    wall: float
    processes: dict[str, float | None]
    machine_busy: float
    machine_total: float


def snapshot(
    pids: dict[str, int | tuple[int, ...] | None], wall: float, alone: frozenset[str] = frozenset({"watcher"})
) -> Snapshot:
    """
    Read the CPU seconds of each named pid or pids (summed; None: unknown or gone) and of the machine.

    The names in ``alone`` count their own process only (the benchmark's driver, whose
    children are the other processes measured).
    """
    busy, total = machine_seconds()
    seconds: dict[str, float | None] = {}
    for name, found in pids.items():
        each = [
            process_seconds(pid, name not in alone) for pid in ((found,) if isinstance(found, int) else found or ())
        ]
        seconds[name] = None if not each or None in each else sum(each)  # type: ignore[arg-type]
    return Snapshot(wall, seconds, busy, total)


def shares(first: Snapshot, last: Snapshot) -> dict[str, float | None]:
    """
    CPU share of each process between two snapshots (CPU seconds / wall seconds), and ``machine``:
    the busy share of all cores together (2.0 = both cores of a 2-core machine busy). None
    for a process that was not readable at both ends.
    """
    wall = last.wall - first.wall
    if wall <= 0:
        return {name: None for name in (*first.processes, "machine")}
    result: dict[str, float | None] = {}
    for name, before in first.processes.items():
        after = last.processes.get(name)
        result[name] = None if before is None or after is None else round((after - before) / wall, 3)
    cores = (last.machine_total - first.machine_total) / wall  # ≈ the number of cores
    busy = (last.machine_busy - first.machine_busy) / wall
    result["machine"] = round(busy, 3)
    result["cores"] = round(cores, 2)
    return result
