"""
Replay every recorded request (``cases.py``) against our views and parse each response the
way a client written for the peer does: the status, the keys present and in the contract's
order, their JSON types (every completion number a float, counts integers), the pagination
envelope or the bare entry, and the values the case names.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from .cases import ALL, BAD, BAR_PAGE, BLOCK, ENTRY, ERROR, LOGIN, PAGE, STATS, UNAVAILABLE, Case

COMPLETION_KEYS = ["earned", "possible", "percent"]
#: The contract's order of a course entry's keys (``optional_completion`` follows ``completion``),
#: then the aggregation names in the order they were requested.
COURSE_ENTRY_ORDER = ["course_key", "completion", "optional_completion", "username", "mean"]
AGGREGATIONS = ("chapter", "sequential", "vertical")


def test_the_table_is_large_enough():
    assert len(ALL) >= 100 and len(BAD) >= 30
    assert len({case.id for case in ALL}) == len(ALL)
    assert {case.who for case in ALL} >= {None, "learner", "other", "staff", "instructor", "global", "org", "beta", "inactive"}


def _substitute(value: Any, ids: dict[str, int]) -> Any:
    """``USER:<username>`` → that user's id (in strings and lists)."""
    if isinstance(value, str):
        return re.sub(r"USER:(\w+)", lambda match: str(ids[match.group(1)]), value)
    if isinstance(value, list):
        return [int(item) if isinstance(item, str) and item.startswith("USER:") else item for item in (_substitute(v, ids) for v in value)]
    if isinstance(value, dict):
        return {key: _substitute(item, ids) for key, item in value.items()}
    return value


def send(case: Case, world) -> Any:
    user = world[case.who] if case.who else None
    ids = {person.get_username(): person.pk for key, person in world.items() if not key.startswith("_")}
    data = _substitute(case.data, ids)
    if case.path.startswith("/completion-aggregator/progress_bar/"):
        client = Client()
        if user is not None:
            client.force_login(user)
        if case.method == "GET":
            return client.get(case.path)
        return client.post(case.path, data or {})
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)  # as a JWT does: inactive users too
    if case.method == "GET":
        return client.get(case.path, data or {})
    if case.fmt == "raw":
        return client.post(case.path, data, content_type="application/json")
    if case.fmt == "form":
        return client.post(case.path, data, content_type="application/x-www-form-urlencoded")
    return client.post(case.path, data, format=case.fmt)


def ordered(raw: bytes) -> Any:
    """The JSON document with every object as a list of (key, value) pairs, in document order."""
    return json.loads(raw, object_pairs_hook=lambda pairs: pairs)


def as_dict(pairs: Any) -> Any:
    if isinstance(pairs, list) and all(isinstance(item, tuple) and len(item) == 2 for item in pairs) and pairs:
        return {key: as_dict(value) for key, value in pairs}
    if isinstance(pairs, list):
        return [as_dict(item) for item in pairs]
    return pairs


def check_completion(pairs, v0: bool) -> None:
    assert [key for key, _ in pairs] == COMPLETION_KEYS + (["ratio"] if v0 else [])
    values = dict(pairs)
    assert all(type(value) is float for value in values.values()), values  # 4.0, never 4
    assert 0.0 <= values["percent"] <= 1.0 and values["earned"] <= values["possible"] or values["possible"] == 0.0
    if v0:
        assert values["ratio"] == values["percent"]


def check_block_entry(pairs, v0: bool) -> None:
    keys = [key for key, _ in pairs]
    assert keys[:3] == ["course_key", "block_key", "completion"] and set(keys[3:]) <= {"optional_completion"}
    values = dict(pairs)
    assert isinstance(values["course_key"], str) and isinstance(values["block_key"], str)
    check_completion(values["completion"], v0)
    if "optional_completion" in values:
        check_completion(values["optional_completion"], v0)


def check_course_entry(pairs, v0: bool) -> None:
    keys = [key for key, _ in pairs]
    head = [key for key in keys if key not in AGGREGATIONS]
    assert head == [key for key in COURSE_ENTRY_ORDER if key in head], keys
    assert keys[: len(head)] == head  # block lists come last
    values = dict(pairs)
    assert isinstance(values["course_key"], str)
    check_completion(values["completion"], v0)
    if "optional_completion" in values:
        check_completion(values["optional_completion"], v0)
    if "username" in values:
        assert isinstance(values["username"], str)
    if "mean" in values:
        assert values["mean"] is None or type(values["mean"]) is float
    for name in AGGREGATIONS:
        if name in values:
            assert isinstance(values[name], list)
            for block in values[name]:
                check_block_entry(block, v0)


def check_page(pairs, v0: bool) -> None:
    assert sorted(key for key, _ in pairs) == ["pagination", "results"]
    values = dict(pairs)
    pagination = dict(values["pagination"]) if values["pagination"] else {}
    assert [key for key, _ in values["pagination"]] == ["next", "previous", "count", "num_pages"]
    assert type(pagination["count"]) is int and type(pagination["num_pages"]) is int
    assert all(pagination[key] is None or pagination[key].startswith("http") for key in ("next", "previous"))
    assert isinstance(values["results"], list)
    for entry in values["results"]:
        check_course_entry(entry, v0)


def check_stats(pairs) -> None:
    assert [key for key, _ in pairs] == ["results"]
    (entry,) = dict(pairs)["results"]
    keys = [key for key, _ in entry]
    assert keys[:2] == ["course_key", "mean_completion"]
    values = dict(entry)
    check_completion(values["mean_completion"], v0=False)
    if "mean" in values:
        assert values["mean"] is None or type(values["mean"]) is float
    for name in AGGREGATIONS:
        for block in values.get(name, []):
            assert [key for key, _ in block] == ["block_key", "mean_completion", "completed_count"]
            check_completion(dict(block)["mean_completion"], v0=False)
            assert type(dict(block)["completed_count"]) is int


def pick(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in ALL])
def test_replay(case: Case, world):
    response = send(case, world)
    assert response.status_code == case.status, (case.id, response.status_code, response.content[:300])
    if case.shape in (PAGE, ENTRY, STATS, BLOCK, ERROR):
        assert response["Content-Type"] == "application/json"
        pairs = ordered(response.content)
        if case.shape == PAGE:
            check_page(pairs, case.v0)
        elif case.shape == ENTRY:
            check_course_entry(pairs, case.v0)
        elif case.shape == STATS:
            check_stats(pairs)
        elif case.shape == BLOCK:
            assert [key for key, _ in pairs] == ["course_key", "block_key", "completion"]
            assert type(dict(pairs)["completion"]) is float
        else:
            assert [key for key, _ in pairs] == ["detail"] and isinstance(dict(pairs)["detail"], str)
        document = as_dict(pairs)
        for path, value in case.expect.items():
            if path.startswith("len:"):
                assert len(pick(document, path[4:])) == value, path
            else:
                assert pick(document, path) == value, path
    elif case.shape in (BAR_PAGE, UNAVAILABLE):
        assert response["Content-Type"].startswith("text/html")
        assert "X-Frame-Options" not in response
        assert response["Content-Security-Policy"].startswith("frame-ancestors 'self'")
        html = response.content.decode()
        if case.shape == BAR_PAGE:
            node = re.search(r'<div[^>]*role="progressbar"[^>]*>', html, re.S).group(0)
            now = int(re.search(r'aria-valuenow="(\d+)"', node).group(1))
            assert 'aria-valuemin="0"' in node and 'aria-valuemax="100"' in node
            assert now == case.expect["aria-valuenow"]
        else:
            assert 'role="progressbar"' not in html and "is not available." in html
            reason = re.search(r'data-reason="([^"]*)"', html).group(1)
            assert reason == case.expect.get("reason", reason)
            assert "<script" not in html
    elif case.shape == LOGIN:
        assert "/login/" in response["Location"]
