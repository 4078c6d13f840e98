"""
Settings of the freshness benchmark's processes (``benchmarks/freshness.py``).

The development project's settings (``devsite.settings``: the database, broker and cache
from the environment), production-like: ``DEBUG`` off, and three of the app's settings taken
from the environment so that one run can try other values without editing a file:

* ``COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS`` (float),
* ``COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE`` (int),
* ``COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE`` (int).

``FRESHNESS_LOG_DIR``: the follower's cycle lines (logger ``completion_aggregator.batch``,
INFO) go to ``follower.log`` there.
"""

import os

from devsite.settings import *  # noqa: F401,F403
from devsite.settings import LOGGING

DEBUG = False

_FROM_ENVIRONMENT = (
    ("COMPLETION_AGGREGATOR_FOLLOW_CYCLE_SECONDS", float),
    ("COMPLETION_AGGREGATOR_FOLLOW_MAX_ROWS_PER_CYCLE", int),
    ("COMPLETION_AGGREGATOR_TASK_CHUNK_SIZE", int),
)
for _name, _cast in _FROM_ENVIRONMENT:
    if os.environ.get(_name):
        globals()[_name] = _cast(os.environ[_name])

if os.environ.get("FRESHNESS_LOG_DIR"):
    LOGGING.setdefault("formatters", {})["freshness_cycle"] = {"format": "%(created).3f %(message)s"}
    LOGGING.setdefault("handlers", {})["freshness_follower"] = {
        "class": "logging.FileHandler",
        "filename": os.path.join(os.environ["FRESHNESS_LOG_DIR"], "follower.log"),
        "formatter": "freshness_cycle",
    }
    LOGGING.setdefault("loggers", {})["completion_aggregator.batch"] = {
        "handlers": ["freshness_follower"],
        "level": "INFO",
        "propagate": False,
    }
