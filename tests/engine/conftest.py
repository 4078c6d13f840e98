"""
The engine layer needs neither Django nor a database.

``tests/conftest.py`` has an autouse fixture that clears the api's graph cache and the
adapter's cache; both imports need configured Django settings. Engine tests override it with
a no-op of the same name so that they also run with ``-p no:django``.
"""
import pytest


@pytest.fixture(autouse=True)
def _fresh_caches():
    """No caches to clear: the engine is pure."""
    yield
