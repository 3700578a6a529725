"""Subscription: the change feed of one model (protocol.md 12) on a blocking `Session`,
iterated as events come:

    with session.subscribe("Report", col("temperature") >= 80) as feed:
        for event in feed:               # blocks; feed.poll(timeout) waits at most timeout s
            print(event.kind, event.object.temperature)

Events arrive on the session's connection; while a request of the session waits for its
answer, the events read on the way are kept (at most 10,000 per subscription, after which
it ends with `SubscriptionOverflow`). Iterating reads the socket. A session is not for
several threads at once: iterate in the thread that makes the session's requests, or use
`shardd.aio`."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Iterator, Optional, Type, TypeVar

from .event import Event
from .event_router import Feed
from .model import ObjectFactory
from . import operation

if TYPE_CHECKING:
    from .session import Session

T = TypeVar("T")


class Subscription(Generic[T]):
    def __init__(self, session: "Session", feed: Feed, factory: ObjectFactory) -> None:
        self._session = session
        self._feed = feed
        self._factory = factory
        self._closed = False

    @property
    def subscription(self) -> int:
        """The daemon's number of the subscription."""
        return self._feed.subscription

    def __iter__(self) -> Iterator[Event[T]]:
        return self

    def __next__(self) -> Event[T]:
        event = self.poll(None)
        if event is None:
            raise StopIteration
        return event

    def poll(self, timeout: Optional[float] = None) -> Optional[Event[T]]:
        """The next event; None when `timeout` seconds pass first, or once closed. Raises
        `SubscriptionOverflow` (or `ConnectionLost`) after the last event kept."""
        deadline = None if timeout is None else time.monotonic() + timeout
        feed = self._feed
        while True:
            if feed.events:
                return Event(feed.events.popleft(), self._factory)
            if self._closed:
                return None
            if feed.ended is not None:
                raise feed.ended
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            if not self._session._connection.read_events(remaining):
                return None

    def close(self) -> None:
        """Unsubscribes (events already kept are dropped)."""
        if self._closed:
            return
        self._closed = True
        self._feed.events.clear()
        connection = self._session._connection
        connection.router.unregister(self.subscription)
        if self._feed.ended is None and not connection.closed:
            connection.run(operation.unsubscribe(self.subscription))

    unsubscribe = close

    def __enter__(self) -> "Subscription[T]":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()
