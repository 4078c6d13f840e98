"""
The names of the tracking events this app emits (a contract with event consumers).

Pure data, importing nothing: :mod:`completion_aggregator.events` builds and emits the events,
:mod:`completion_aggregator.xapi` lets them through edx-event-routing-backends, and the
plugin settings (which run before the app is loaded) need the names too (ADR 0023).
"""

PROGRESS_EVENT_PREFIX = "openedx.completion_aggregator.progress."
COMPLETION_EVENT_PREFIX = "openedx.completion_aggregator.completion."
#: Every event name this app emits (for allow-lists such as event-routing-backends').
EVENT_TYPES = ("course", "chapter", "sequential", "vertical")
PROGRESS_EVENT_NAMES = tuple(PROGRESS_EVENT_PREFIX + name for name in EVENT_TYPES)
COMPLETION_EVENT_NAMES = tuple(COMPLETION_EVENT_PREFIX + name for name in EVENT_TYPES)
EVENT_NAMES = PROGRESS_EVENT_NAMES + COMPLETION_EVENT_NAMES
