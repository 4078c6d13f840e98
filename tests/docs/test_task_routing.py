"""
The install guide routes every Celery task of the app to an LMS queue (issue 16 point 1).

Studio queues tasks that must run on an LMS worker; a task missing from the guide's
``EXPLICIT_QUEUES`` / ``ALTERNATE_ENV_TASKS`` lines would run on a CMS worker. The registered
task names (``@shared_task(name=…)``) and both lists of ``docs/install_lms.rst`` must agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from celery import current_app

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "install_lms.rst"


def _block(text: str, opening: str) -> str:
    start = text.index(opening)
    return text[start : text.index("})", start)]


def test_every_task_is_routed_to_the_lms_in_both_lists():
    import completion_aggregator.tasks.aggregation_tasks  # noqa: F401  (registers the tasks)
    import completion_aggregator.tasks.handler_tasks  # noqa: F401

    tasks = {name for name in current_app.tasks if name.startswith("completion_aggregator.")}
    assert tasks >= {"completion_aggregator.tasks.handler_tasks.mark_all_stale"}
    text = GUIDE.read_text()
    explicit = _block(text, "EXPLICIT_QUEUES.update({")
    alternate = _block(text, "ALTERNATE_ENV_TASKS.update({")
    assert set(re.findall(r'"(completion_aggregator\.[\w.]+)": \{"queue": "edx\.lms\.', explicit)) == tasks
    assert set(re.findall(r'"(completion_aggregator\.[\w.]+)": "lms"', alternate)) == tasks
