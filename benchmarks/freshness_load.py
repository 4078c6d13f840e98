#!/usr/bin/env python
"""
The freshness benchmark's load generator: commits completions at a fixed rate, as the LMS does.

Started by ``benchmarks/freshness.py`` as a process of its own (never the follower's or a
worker's), with the run's environment (``DJANGO_SETTINGS_MODULE=benchmarks.freshness_settings``,
the database, the broker). Each completion goes through edx-completion's own write path,
``BlockCompletion.objects.submit_completion(user, block_key, 1.0)``: one transaction in
which the app's ``post_save`` receiver writes the stale row (asynchronous mode), committed
when the call returns. Each completion is a leaf the learner had not completed, with value
1.0, so it raises the learner's stored course ``earned`` by exactly 1.

    python benchmarks/freshness_load.py COURSE_KEY SEED PART PARTS

Learners are taken in a seeded random order, each once before any twice; the run goes on
from one phase to the next in that order. With PARTS processes, process PART (from 0) owns
the learners at positions PART, PART + PARTS, … of that order.

Protocol, text lines:

* stdin: one JSON object per phase, ``{"rate": 100.0, "count": 3000, "duration": 30.0,
  "offset": 0.0}`` (this process's completions per second, its most completions, the most
  seconds, and the shift of its schedule); end of input ends the process.
* stdout: ``ready <learners>`` once loaded; ``c <user_id> <k> <commit>`` after each
  completion (the learner's k-th completion of this run, ``commit`` = ``time.time()`` just
  after ``submit_completion`` returned, i.e. after its commit); ``done <count> <seconds>
  <late>`` at the end of a phase (``late``: how far behind its schedule the generator fell
  at worst, seconds).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent


class Learners:
    """The course's enrolled learners, their completed leaves (bit masks) and the seeded order."""

    def __init__(self, course_key: str, seed: int, part: int = 0, parts: int = 1) -> None:
        from django.contrib.auth import get_user_model
        from opaque_keys.edx.keys import CourseKey

        from completion_aggregator.standalone.models import CourseStructure, Enrollment

        self.course_key = CourseKey.from_string(course_key)
        structure = CourseStructure.objects.filter(course__course_key=self.course_key).order_by("-version").first()
        if structure is None:
            raise SystemExit(f"freshness_load: no published course {course_key}")
        self.leaves = [
            key for key in structure.blocks.filter(block_type="html").order_by("id").values_list("block_key", flat=True)
        ]
        self.index = {str(key): number for number, key in enumerate(self.leaves)}
        ids = sorted(
            Enrollment.objects.filter(course_key=self.course_key, is_active=True).values_list("user_id", flat=True)
        )
        self.users = {user.pk: user for user in get_user_model().objects.filter(pk__in=ids).only("id", "username")}
        order = sorted(self.users)
        random.Random(f"freshness-order:{seed}").shuffle(order)
        self.order = order[part::parts]  # this process's learners: no other process completes for them
        self.users = {user_id: self.users[user_id] for user_id in self.order}
        self.masks = self._completed()
        self.rng = random.Random(f"freshness-leaves:{seed}:{part}")
        self.position = 0
        self.sent: dict[int, int] = {}  # user id -> completions sent by this run

    def _completed(self) -> dict[int, int]:
        """Every learner's completed leaves as a bit mask (one streamed read of the course's completions)."""
        from completion.models import BlockCompletion
        from django.db import connection

        from benchmarks.run import streaming_cursor

        masks: dict[int, int] = dict.fromkeys(self.users, 0)
        query = BlockCompletion.objects.filter(context_key=self.course_key).values_list("user_id", "block_key")
        sql, params = query.query.sql_with_params()
        with streaming_cursor(connection) as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(10000):
                for user_id, block_key in batch:
                    leaf = self.index.get(str(block_key))
                    if leaf is not None and user_id in masks:
                        masks[user_id] |= 1 << leaf
        return masks

    def next(self) -> tuple[Any, Any] | None:
        """The next (user, leaf key) to complete, in the seeded order (None: every leaf of everyone is done)."""
        full = (1 << len(self.leaves)) - 1
        for _attempt in range(len(self.order)):
            user_id = self.order[self.position % len(self.order)]
            self.position += 1
            mask = self.masks[user_id]
            if mask == full:
                continue
            free = [leaf for leaf in range(len(self.leaves)) if not mask >> leaf & 1]
            leaf = self.rng.choice(free)
            self.masks[user_id] = mask | 1 << leaf
            return self.users[user_id], self.leaves[leaf]
        return None


def run_phase(
    learners: Learners,
    rate: float,
    count: int,
    duration: float,
    out: TextIO,
    submit: Callable[[Any, Any], Any] | None = None,
    offset: float = 0.0,
) -> tuple[int, float, float]:
    """
    Commit up to ``count`` completions at ``rate`` per second for at most ``duration`` seconds.

    Completion i is due ``offset + i / rate`` seconds after the start; a generator behind its schedule
    sends at once (it never skips). Returns (completions sent, seconds, the worst lateness in
    seconds). Raises whatever ``submit_completion`` raises (a database error ends the run).
    """
    from completion.models import BlockCompletion

    submit = submit or (lambda user, key: BlockCompletion.objects.submit_completion(user, key, 1.0))
    start = time.monotonic()
    late = 0.0
    sent = 0
    while sent < count:
        due = start + offset + sent / rate
        now = time.monotonic()
        if due - start >= duration or now - start >= duration:
            break
        if now < due:
            time.sleep(due - now)
        else:
            late = max(late, now - due)
        picked = learners.next()
        if picked is None:
            break
        user, key = picked
        submit(user, key)
        committed = time.time()
        k = learners.sent[user.pk] = learners.sent.get(user.pk, 0) + 1
        out.write(f"c {user.pk} {k} {committed:.6f}\n")
        out.flush()
        sent += 1
    # The load lasted until the next completion would have been due (or longer, when late).
    return sent, max(time.monotonic() - start, offset + sent / rate), late


def main() -> int:
    """Load the learners, then run each phase read from stdin (see the module's docstring)."""
    course_key, seed, part, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.freshness_settings")
    import django

    django.setup()
    learners = Learners(course_key, seed, part, parts)
    print(f"ready {len(learners.users)}", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        phase = json.loads(line)
        sent, seconds, late = run_phase(
            learners,
            float(phase["rate"]),
            int(phase["count"]),
            float(phase["duration"]),
            sys.stdout,
            offset=float(phase.get("offset", 0.0)),
        )
        print(f"done {sent} {seconds:.3f} {late:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
