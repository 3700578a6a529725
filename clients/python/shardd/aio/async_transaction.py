"""AsyncTransaction: what `session.begin()` answers on an `AsyncSession`: awaitable
(`await session.begin()` opens the transaction) and an async context manager that commits
when its block ends and rolls back when it raises (`async with session.begin(): ...`), as
SQLAlchemy's `AsyncSession.begin()`."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Generator, List, Optional, Type

from .. import operation
from ..results import CommitResult
from ..shard_error import ShardError

if TYPE_CHECKING:
    from .async_session import AsyncSession


class AsyncTransaction:
    def __init__(self, session: "AsyncSession") -> None:
        self._session = session
        self.shards: Optional[List[str]] = None
        """The shards `begin` answered, once it has."""
        self.commit_result: Optional[CommitResult] = None

    async def _begin(self) -> "AsyncTransaction":
        if self.shards is None:
            self.shards = await self._session._run(operation.shards_of("begin"))
        return self

    def __await__(self) -> Generator[Any, None, "AsyncTransaction"]:
        return self._begin().__await__()

    async def __aenter__(self) -> "AsyncTransaction":
        return await self._begin()

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        if exc_type is None:
            self.commit_result = await self._session.commit()
            return
        try:
            await self._session.rollback()
        except ShardError:
            pass  # the block's exception is the one to see; a lost connection rolls back anyway
