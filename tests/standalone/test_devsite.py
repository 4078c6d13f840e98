"""The development project (devsite) as a newcomer meets it (issue 19)."""
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_events_file_is_under_the_project_and_ignored_by_git():
    path = Path(settings.EVENTS_LOG_PATH).resolve()
    assert ROOT in path.parents  # not a machine-wide path shared by every checkout
    handler = settings.LOGGING["handlers"]["completion_aggregator_events"]
    assert Path(handler["filename"]).resolve() == path
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT)
    assert ignored.returncode == 0, f"{path} is not ignored by git"
