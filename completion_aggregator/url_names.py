"""
URL names: ours, and the aliases kept for the peer's (``openedx-completion-aggregator``).

Our names, in the ``completion_aggregator`` namespace (where edx-platform's plugin
``url_config`` mounts the app): ``v1:course-list``, ``v1:course-detail``, ``v1:course-stats``,
``v0:course-list``, ``v0:course-detail``, ``v0:block-completion``, ``progress-bar``,
``progress-bar-chapter``, ``course-report``, ``course-report-csv``, ``schema``, ``docs``.

``PEER_URL_NAMES`` maps a name of the peer to one of ours; each entry is registered as one
more pattern with the peer's name, so that ``reverse()`` of the old name keeps working and
gives the same path. The peer's names are not among the facts this project may use (what its
clients rely on is its paths, not its names; issue 17, point 6): the table is
empty until they are known, and an entry is one line here (``tests/rest_api/test_url_names.py``
checks every entry).
"""
from __future__ import annotations

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver

#: ``{peer name: our name}``, both relative to the ``completion_aggregator`` namespace (a
#: ``"v1:…"`` prefix for the versioned ones).
PEER_URL_NAMES: dict[str, str] = {}


def alias_patterns(
    patterns: Sequence[URLPattern | URLResolver], aliases: dict[str, str], prefix: str = ""
) -> list[URLPattern]:
    """
    One more pattern per alias whose target is among ``patterns``.

    ``prefix`` names the sub-namespace (e.g. ``"v1:"``; the alias lives in the same one): same
    route, same view, the alias's name (its part after the last ``:``).

    Raises:
        LookupError: an alias's target names no pattern of ``patterns`` (a typo in the table).
    """
    by_name = {pattern.name: pattern for pattern in patterns if isinstance(pattern, URLPattern) and pattern.name}
    made = []
    for alias, target in aliases.items():
        if not target.startswith(prefix) or ":" in target[len(prefix) :]:
            continue
        pattern = by_name.get(target[len(prefix) :])
        if pattern is None:
            raise LookupError(f"URL alias {alias!r}: no URL named {target!r}")
        made.append(URLPattern(pattern.pattern, pattern.callback, pattern.default_args, alias.split(":")[-1]))
    return made


__all__ = ["PEER_URL_NAMES", "alias_patterns"]
