"""Fixtures shared by every test layer."""
import pytest


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Compiled graphs and structures are cached by ids that rolled-back tests reuse."""
    from completion_aggregator.adapters import get_adapter
    from completion_aggregator.api import clear_graph_cache

    def clear():
        clear_graph_cache()
        adapter = get_adapter()
        if hasattr(adapter, "clear_cache"):
            adapter.clear_cache()

    clear()
    yield
    clear()
