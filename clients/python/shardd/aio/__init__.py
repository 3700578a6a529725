"""shardd for asyncio: `session = await shardd.aio.connect()` gives an `AsyncSession`
with the calls of `shardd.Session` as coroutines, pipelined on one connection."""

from .async_query import AsyncQuery
from .async_session import AsyncSession, connect
from .async_subscription import AsyncSubscription
from .async_transaction import AsyncTransaction

__all__ = ["connect", "AsyncSession", "AsyncQuery", "AsyncSubscription", "AsyncTransaction"]
