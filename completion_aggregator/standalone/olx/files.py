"""The XML files and the policy of one export, each parsed once, with the warnings met on the way."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from .elements import parse_xml
from .rules import MAX_JSON_DEPTH, JsonTooDeep, OlxError
from .sources import Source
from .values import loads


class CourseFiles:
    """
    The parsed XML files of ``source``, each read and parsed at most once.

    ``warnings`` collects, in the order met, what the import recovers from (the walker appends
    its own to the same list, so that they read in course order).
    """

    def __init__(self, source: Source):
        self.source = source
        self.warnings: list[str] = []
        self._parsed: dict[str, ET.Element] = {}

    def load(self, rel: str, referrer: str = "") -> ET.Element:
        """
        The root element of the file ``rel``, parsed once (``referrer``: who points to it).

        Raises:
            OlxError: the file does not exist or is malformed (see :func:`.elements.parse_xml`).
        """
        if rel in self._parsed:
            return self._parsed[rel]
        data = self.source.read(rel)
        if data is None:
            where = f"{referrer}: " if referrer else ""
            raise OlxError(f"{where}{self.source.describe(rel)} does not exist")
        self._parsed[rel] = parse_xml(data, self.source.describe(rel), self.warnings)
        return self._parsed[rel]

    def exists(self, rel: str) -> bool:
        """True when the export has the file ``rel``."""
        return self.source.exists(rel)

    def describe(self, rel: str) -> str:
        """The file as messages name it."""
        return self.source.describe(rel)

    def load_policy(self, run: str) -> dict[str, dict[str, Any]]:
        """
        ``policies/RUN/policy.json`` (else the legacy ``policies/RUN.json``): ``{"type/name": {setting: value}}``.

        Entries whose value is not an object are dropped; no policy file is ``{}``.

        Raises:
            OlxError: the file is not UTF-8, malformed, not an object, or nested deeper than
                :data:`MAX_JSON_DEPTH`.
        """
        for rel in (f"policies/{run}/policy.json", f"policies/{run}.json"):
            data = self.source.read(rel)
            if data is None:
                continue
            where = self.source.describe(rel)
            try:
                policy = loads(data.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise OlxError(f"{where}: not UTF-8 ({exc})") from None
            except JsonTooDeep:
                raise OlxError(f"{where}: JSON nested more than {MAX_JSON_DEPTH} deep (the limit)") from None
            except json.JSONDecodeError as exc:
                raise OlxError(
                    f"{where}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                ) from None
            if not isinstance(policy, dict):
                raise OlxError(f"{where}: expected a JSON object")
            return {key: value for key, value in policy.items() if isinstance(value, dict)}
        return {}
