"""
Figures of the freshness benchmark: lag percentiles, the lag's trend, and the printed table.

Percentiles interpolate linearly between the two nearest ranks (numpy's default). A
completion never seen reflected within the drain bound counts as an infinite lag: a
percentile that falls on one is reported as None (printed ``> drain``), never as a number
that flatters the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) of ``values`` (infinite values allowed); None if empty or infinite."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if math.isinf(ordered[high]):
        return None
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 4)


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x (seconds of lag gained per second of run); None under two distinct x."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return round(sum((x - mean_x) * (y - mean_y) for x, y in points) / spread, 4)


def lag_figures(samples: Sequence[Any], start: float, warmup: float) -> dict[str, Any]:
    """
    Lag figures of one phase's samples (``freshness_watch.Sample``), ``start``: the phase's start (epoch s).

    ``steady``: completions committed at least ``warmup`` seconds after the start (an idle
    follower sleeps up to five cycle periods before its first cycle of a phase); ``all``:
    every completion. Each: count, unseen, p50/p95/p99/max of the lag seen by a reader and
    p50/p99 of the row-stamp lag (its lower bound), and the trend (least-squares slope of the
    lag over commit time: about 0 while the workers keep up, positive when a backlog grows).
    """
    figures: dict[str, Any] = {}
    for name, chosen in (("all", samples), ("steady", [s for s in samples if s.commit - start >= warmup])):
        lags = [math.inf if s.lag is None else s.lag for s in chosen]
        stamps = [math.inf if s.stamp_lag is None else s.stamp_lag for s in chosen]
        seen = [s for s in chosen if s.lag is not None]
        entry: dict[str, Any] = {"completions": len(chosen), "unseen": len(chosen) - len(seen)}
        for q in PERCENTILES:
            entry[f"p{q}"] = percentile(lags, q)
        entry["max"] = round(max(lags), 4) if lags and not math.isinf(max(lags)) else None
        entry["stamp_p50"] = percentile(stamps, 50)
        entry["stamp_p99"] = percentile(stamps, 99)
        entry["trend"] = slope([(s.commit - start, s.lag) for s in seen])
        figures[name] = entry
    return figures


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    else:
        text = f"{value:,}"
    return text + unit


def table(results: dict[str, Any]) -> list[str]:
    """The printed table: one row per rate (lags in seconds, CPU shares in cores)."""
    header = (
        "rate/s",
        "sent/s",
        "steady n",
        "p50 s",
        "p95 s",
        "p99 s",
        "max s",
        "stamp p99",
        "trend s/s",
        "follower",
        "worker",
        "generator",
        "database",
        "others",
        "worker ms/compl.",
        "est. max/s",
    )
    rows = [header]
    drain = results["meta"]["drain_seconds"]
    for phase in results["phases"]:
        steady, cpu = phase["lag"]["steady"], phase["cpu_share"]
        missing = f"> {drain:g}"
        rows.append(
            (
                _fmt(phase["rate"]),
                _fmt(phase["sent_per_s"]),
                _fmt(steady["completions"]),
                *(_fmt(steady[f"p{q}"]) if steady[f"p{q}"] is not None else missing for q in PERCENTILES),
                _fmt(steady["max"]) if steady["max"] is not None else missing,
                _fmt(steady["stamp_p99"]),
                _fmt(steady["trend"]),
                *(_fmt(cpu.get(name)) for name in ("follower", "worker", "generator", "database", "others")),
                _fmt(phase["cpu_ms_per_completion"].get("worker")),
                _fmt(phase["capacity_per_s"]["machine"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def verdict(results: dict[str, Any], target_rate: float = 200.0, target_p99: float = 5.0) -> str:
    """
    One line: the issue's target (p99 ≤ 5 s at 200/s) met, missed or not measured (the load
    generators did not reach the rate), and the first saturated rate with the reasons.
    """
    parts = []
    for phase in results["phases"]:
        if phase["rate"] == target_rate:
            p99 = phase["lag"]["steady"]["p99"]
            if "load below the rate" in phase["saturation"]:
                parts.append(
                    f"p99 at {target_rate:g}/s not measured: the generators reached {_fmt(phase['sent_per_s'])}/s "
                    f"(p99 there {_fmt(p99)} s)"
                )
            else:
                met = p99 is not None and p99 <= target_p99
                parts.append(
                    f"p99 at {target_rate:g}/s: {_fmt(p99)} s ({'meets' if met else 'misses'} ≤ {target_p99:g} s)"
                )
    first = next((phase for phase in results["phases"] if phase["saturation"]), None)
    if first is None:
        parts.append("no rate saturated")
    else:
        parts.append(f"saturated from {first['rate']:g}/s ({', '.join(first['saturation'])})")
    return "; ".join(parts)


OURS = ("follower", "worker", "generator", "database", "watcher")


def add_derived(phase: dict[str, Any]) -> None:
    """
    Add to a phase: ``cpu_share["others"]`` (the machine's busy share minus this run's
    processes: other users of a shared machine) and ``capacity_per_s``: the completions per
    second one worker process could absorb on a core of its own (1000 / its CPU ms per
    completion), and that the whole machine could take with everything of this run on it
    (cores × 1000 / the sum of every process's CPU ms per completion): an estimate of
    saturation on a quiet machine, from CPU time, which a busy machine hardly changes.
    """
    share, per = phase["cpu_share"], phase["cpu_ms_per_completion"]
    if share.get("machine") is not None:
        share["others"] = round(max(0.0, share["machine"] - sum(share.get(name) or 0.0 for name in OURS)), 3)
    total = sum(per.get(name) or 0.0 for name in OURS)
    worker = per.get("worker")
    phase["capacity_per_s"] = {
        "worker_process": round(1000 / worker, 1) if worker else None,
        "machine": round(share.get("cores", 0) * 1000 / total, 1) if total and share.get("cores") else None,
    }
    phase["saturation"] = saturation(phase)
    phase["saturated"] = bool(phase["saturation"])


def saturation(phase: dict[str, Any]) -> list[str]:
    """
    Why a phase's rate was more than the run could take (empty: it was not): the generators
    fell below 95 % of the rate (the load side), a steady completion was never seen within the
    drain bound, or the lag grew by more than 0.1 s per second of load (a backlog building up).
    """
    steady = phase["lag"]["steady"]
    reasons = []
    if phase["sent_per_s"] < 0.95 * phase["rate"]:
        reasons.append("load below the rate")
    if steady["unseen"]:
        reasons.append("completions unseen")
    if steady["trend"] is not None and steady["trend"] > 0.1:
        reasons.append("lag growing")
    return reasons
