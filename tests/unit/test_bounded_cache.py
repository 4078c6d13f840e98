"""The one bounded cache of the app (``completion_aggregator.bounded_cache``): size, age, recency, threads."""

from __future__ import annotations

import threading

import pytest

from completion_aggregator.bounded_cache import BoundedCache


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_get_of_a_missing_key_is_none_and_put_then_get_returns_the_value():
    cache: BoundedCache[str, int] = BoundedCache(2)
    assert cache.get("a") is None
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert len(cache) == 1


def test_the_least_recently_used_goes_first_when_full():
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert len(cache) == 2


def test_put_replaces_and_refreshes_a_key():
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10
    assert cache.get("b") is None


def test_values_older_than_max_age_are_not_returned():
    clock = Clock()
    cache: BoundedCache[str, int] = BoundedCache(4, max_age=10, clock=clock)
    cache.put("a", 1)
    clock.now += 9.5
    assert cache.get("a") == 1
    clock.now += 0.5
    assert cache.get("a") is None
    assert len(cache) == 0


def test_max_age_read_at_each_look_up_and_zero_means_no_limit():
    clock = Clock()
    limit = {"seconds": 0.0}
    cache: BoundedCache[str, int] = BoundedCache(4, max_age=lambda: limit["seconds"], clock=clock)
    cache.put("a", 1)
    clock.now += 1000
    assert cache.get("a") == 1
    limit["seconds"] = 5
    assert cache.get("a") is None


def test_get_or_compute_computes_once_per_key_and_keeps_nothing_when_it_raises():
    cache: BoundedCache[str, int] = BoundedCache(4)
    calls = []

    def compute() -> int:
        calls.append(1)
        return 7

    assert cache.get_or_compute("a", compute) == 7
    assert cache.get_or_compute("a", compute) == 7
    assert len(calls) == 1

    def fail() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("b", fail)
    assert cache.get("b") is None


def test_clear_forgets_every_value():
    cache: BoundedCache[int, str] = BoundedCache(4)
    cache.put(1, "x")
    cache.put(2, "y")
    cache.clear()
    assert len(cache) == 0
    assert cache.get(1) is None


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_threads_sharing_one_cache_never_exceed_its_size():
    cache: BoundedCache[int, int] = BoundedCache(8)
    errors = []

    def work(offset: int) -> None:
        try:
            for number in range(500):
                key = (number + offset) % 20
                assert cache.get_or_compute(key, lambda key=key: key * 2) == key * 2
                assert len(cache) <= 8
        except AssertionError as exc:  # pragma: no cover - only on a failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 8
