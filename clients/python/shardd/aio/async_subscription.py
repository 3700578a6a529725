"""AsyncSubscription: the change feed of one model on an `AsyncSession`, an async iterator:

    feed = await session.subscribe("Report", col("temperature") >= 80)
    async with feed:
        async for event in feed:
            print(event.kind, event.object.temperature)

The connection reads every line as it comes, so events wait in the feed (at most 10,000,
after which it ends with `SubscriptionOverflow`) while the session's other tasks go on."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, AsyncIterator, Generic, Optional, Type, TypeVar

from .. import operation
from ..event import Event
from ..model import ObjectFactory
from .async_connection import AsyncFeed

if TYPE_CHECKING:
    from .async_session import AsyncSession

T = TypeVar("T")


class AsyncSubscription(Generic[T]):
    def __init__(self, session: "AsyncSession", feed: AsyncFeed, factory: ObjectFactory) -> None:
        self._session = session
        self._feed = feed
        self._factory = factory
        self._closed = False

    @property
    def subscription(self) -> int:
        return self._feed.subscription

    def __aiter__(self) -> AsyncIterator[Event[T]]:
        return self

    async def __anext__(self) -> Event[T]:
        event = await self.poll(None)
        if event is None:
            raise StopAsyncIteration
        return event

    async def poll(self, timeout: Optional[float] = None) -> Optional[Event[T]]:
        """The next event; None when `timeout` seconds pass first, or once closed. Raises
        `SubscriptionOverflow` (or `ConnectionLost`) after the last event kept."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        feed = self._feed
        while True:
            if feed.events:
                return Event(feed.events.popleft(), self._factory)
            if self._closed:
                return None
            if feed.ended is not None:
                raise feed.ended
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            waiter: "asyncio.Future[None]" = loop.create_future()
            feed.waiter = waiter
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                return None
            finally:
                feed.waiter = None

    async def close(self) -> None:
        """Unsubscribes (events already kept are dropped)."""
        if self._closed:
            return
        self._closed = True
        self._feed.events.clear()
        self._feed.wake()
        connection = self._session._connection
        connection.router.unregister(self.subscription)
        if self._feed.ended is None and not connection.closed:
            await connection.run(operation.unsubscribe(self.subscription))

    unsubscribe = close
    aclose = close

    async def __aenter__(self) -> "AsyncSubscription[T]":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        await self.close()
