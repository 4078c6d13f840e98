"""
A typed view of Celery's ``shared_task`` (Celery ships no type hints).

``@task(name)`` registers the function as ``shared_task(acks_late=True, name=name)`` did, and
tells the type checker what the app uses of the registered task: a direct call with the
function's own signature, ``delay`` and ``apply_async``, and its ``name``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

from celery import shared_task

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class QueuedTask(Protocol):
    """What ``delay`` and ``apply_async`` return (a ``celery.result.AsyncResult``): its task id."""

    @property
    def id(self) -> str:
        """The id Celery gave the queued task."""


class Task(Protocol[P, R_co]):
    """A registered ``celery.Task`` wrapping a function of signature ``P -> R_co``."""

    @property
    def name(self) -> str:
        """The registered name (the import path the peer's producers send)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """Run the function here, now."""

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> QueuedTask:
        """Queue a call with the default options."""

    def apply_async(
        self,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> QueuedTask:
        """Queue a call with Celery's options (``routing_key``, ``countdown`` …)."""


def task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """``shared_task(acks_late=True, name=name)``, keeping the decorated function's signature."""

    def register(function: Callable[P, R]) -> Task[P, R]:
        registered: Task[P, R] = shared_task(acks_late=True, name=name)(function)  # Celery is untyped
        return registered

    return register
