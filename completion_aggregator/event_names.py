"""
The names of the tracking events this app emits (a contract with event consumers).

Pure data, importing nothing: :mod:`completion_aggregator.events` builds and emits the events,
:mod:`completion_aggregator.xapi` lets them through edx-event-routing-backends, and the
plugin settings (which run before the app is loaded) need the names too (ADR 0023).

It also holds the one definition of the default aggregation names, which the defaults of
``COMPLETION_AGGREGATOR_BLOCK_TYPES`` and ``COMPLETION_AGGREGATOR_TRACKING_EVENT_TYPES``
(``settings/common.py``, re-exported by :mod:`completion_aggregator.conf`) read: it cannot
live in ``settings/common.py``, whose plugin hook imports :mod:`~completion_aggregator.xapi`,
which imports this module.
"""

#: The aggregation names stored and tracked by default, outermost first (the one definition).
DEFAULT_BLOCK_TYPES: tuple[str, ...] = ("course", "chapter", "sequential", "vertical")

PROGRESS_EVENT_PREFIX = "openedx.completion_aggregator.progress."
COMPLETION_EVENT_PREFIX = "openedx.completion_aggregator.completion."
#: The aggregation names whose event names are listed here: the default ones.
EVENT_TYPES: tuple[str, ...] = DEFAULT_BLOCK_TYPES
PROGRESS_EVENT_NAMES = tuple(PROGRESS_EVENT_PREFIX + name for name in EVENT_TYPES)
COMPLETION_EVENT_NAMES = tuple(COMPLETION_EVENT_PREFIX + name for name in EVENT_TYPES)
#: Every event name this app emits by default (for allow-lists such as event-routing-backends').
EVENT_NAMES = PROGRESS_EVENT_NAMES + COMPLETION_EVENT_NAMES
