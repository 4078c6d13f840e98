"""
The benchmark's event-tracking setup: the LMS's default backends, writing a real tracking log.

Every changed aggregate row emits a tracking event (``docs/events.rst``), so a backfill's
figures include them. They are sent as in an LMS: edx-platform's ``lms/envs/common.py``
configures ``EVENT_TRACKING_BACKENDS`` as

* ``tracking_logs``: a ``RoutingBackend`` around a ``LoggerBackend`` named ``tracking``
  (``max_event_size`` 50,000), whose logger a file handler writes to ``tracking.log``
  (``WatchedFileHandler`` and the ``%(message)s`` format, as edx-platform's and Tutor's
  logging settings);
* ``segmentio``: a ``RoutingBackend`` around a ``SegmentBackend``, behind a
  ``NameWhitelistProcessor`` whose list (``EVENT_TRACKING_SEGMENTIO_EMIT_WHITELIST``) is
  empty by default, so our events stop there.

Left out: ``tracking_logs``' two processors (``track.shim.LegacyFieldMappingProcessor`` and
``PrefixedEventProcessor``, edx-platform code: a few dictionary moves per event), and
edx-event-routing-backends' ``event_transformer`` backend (installed in recent LMS releases;
it passes only the event names allowed for xAPI/Caliper, which are ours only when a site
turns xAPI on). The development site's own backends (a second log, ``demo-events.log``) are
replaced.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import shutil
import tempfile
from pathlib import Path

TRACK_MAX_EVENT = 50000
LMS_EVENT_TRACKING_BACKENDS = {
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {
                "logger": {
                    "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                    "OPTIONS": {"name": "tracking", "max_event_size": TRACK_MAX_EVENT},
                }
            },
        },
    },
    "segmentio": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {"segment": {"ENGINE": "eventtracking.backends.segment.SegmentBackend"}},
            "processors": [
                {"ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor", "OPTIONS": {"whitelist": []}}
            ],
        },
    },
}
DESCRIPTION = (
    "LMS default: tracking_logs (LoggerBackend 'tracking' -> WatchedFileHandler, without edx-platform's "
    "shim processors) + segmentio (NameWhitelistProcessor, empty list)"
)


class _Count(logging.Filter):
    """Counts the tracking log's records (the events written)."""

    def __init__(self) -> None:
        super().__init__()
        self.records = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.records += 1
        return True


class TrackingLog:
    """The LMS-like tracker installed by :func:`install`: its log file and the events written."""

    def __init__(self, path: Path, counter: _Count) -> None:
        self.path = path
        self._counter = counter

    @property
    def events(self) -> int:
        """Events written to the tracking log so far."""
        return self._counter.records


def install() -> TrackingLog:
    """
    Make the LMS's default backends the default tracker's (after ``django.setup()``).

    The ``tracking`` logger writes to ``tracking.log`` in a temporary directory, removed at exit.
    """
    from django.conf import settings
    from eventtracking import tracker
    from eventtracking.django.django_tracker import DjangoTracker

    directory = Path(tempfile.mkdtemp(prefix="ca-bench-events-"))
    atexit.register(shutil.rmtree, directory, True)
    handler = logging.handlers.WatchedFileHandler(directory / "tracking.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    counter = _Count()
    handler.addFilter(counter)
    logger = logging.getLogger("tracking")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    settings.EVENT_TRACKING_ENABLED = True
    settings.EVENT_TRACKING_BACKENDS = LMS_EVENT_TRACKING_BACKENDS
    settings.EVENT_TRACKING_PROCESSORS = []
    tracker.register_tracker(DjangoTracker())
    return TrackingLog(directory / "tracking.log", counter)
