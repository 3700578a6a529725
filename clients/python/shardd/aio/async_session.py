"""AsyncSession: `Session` for asyncio. The same calls, as coroutines; requests of many
tasks are pipelined on the one connection (see `AsyncConnection`). It is one daemon session:
one identity map and one transaction shared by all its tasks.

A task cancelled while it waits raises `CancelledError` at once; its request still runs on
the daemon (a cancelled write may still happen: check with a read, or roll back)."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Type, TypeVar, Union, overload

from .. import operation
from ..condition import Condition
from ..identity_key import IdentityKey
from ..include import Include
from ..model import BaseObject, M, O, Object, ModelRef
from ..operation import KeyRef, Operation, Where
from ..results import CommitResult, ResultList, ServerInfo
from ..session import CLIENT_NAME
from ..socket_path import resolve_socket
from .async_connection import AsyncConnection, AsyncFeed
from .async_query import AsyncQuery
from .async_subscription import AsyncSubscription
from .async_transaction import AsyncTransaction

R = TypeVar("R")


async def connect(socket: Optional[str] = None, *, client: str = CLIENT_NAME) -> "AsyncSession":
    """An asyncio session with the daemon; the socket is found as `shardd.connect` finds it."""
    path = resolve_socket(socket)
    connection = await AsyncConnection.open(path)
    try:
        server = await connection.run(operation.hello(client))
    except BaseException:
        await connection.close()
        raise
    return AsyncSession(connection, server)


class AsyncSession:
    def __init__(self, connection: AsyncConnection, server: ServerInfo) -> None:
        self._connection = connection
        self.server = server

    @property
    def socket(self) -> str:
        return self._connection.path

    async def _run(self, op: Operation[R]) -> R:
        return await self._connection.run(op)

    async def close(self) -> None:
        await self._connection.close()

    async def __aenter__(self) -> "AsyncSession":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        await self.close()

    def __repr__(self) -> str:
        return "<shardd.aio.AsyncSession %d at %s>" % (self.server.session, self.socket)

    async def request(self, op: str, **arguments: Any) -> Dict[str, Any]:
        return await self._run(operation.raw(op, arguments))

    async def ping(self) -> bool:
        return await self._run(operation.ping())

    @overload
    async def add(self, model: Type[M], /, *, shard: Optional[str] = None, **values: Any) -> M: ...
    @overload
    async def add(self, model: M, /, *, shard: Optional[str] = None) -> M: ...
    @overload
    async def add(self, model: str, /, *, shard: Optional[str] = None, **values: Any) -> Object: ...

    async def add(self, model: Any, /, *, shard: Optional[str] = None, **values: Any) -> Any:
        if isinstance(model, BaseObject):
            if values:
                raise TypeError("add(obj) takes the object's own values; set them on the object")
            return (await self._run(operation.add(model, [model], shard)))[0]
        return (await self._run(operation.add(model, [values], shard)))[0]

    @overload
    async def add_all(self, model: Iterable[M], /, *, shard: Optional[str] = None) -> List[M]: ...
    @overload
    async def add_all(self, model: Type[M], rows: Iterable[Union[Mapping[str, Any], M]], /, *,
                      shard: Optional[str] = None) -> List[M]: ...
    @overload
    async def add_all(self, model: str, rows: Iterable[Mapping[str, Any]], /, *,
                      shard: Optional[str] = None) -> List[Object]: ...

    async def add_all(self, model: Any, rows: Any = None, /, *, shard: Optional[str] = None) -> List[Any]:
        if rows is None:
            if isinstance(model, str):
                raise TypeError("add_all(%r) needs the rows: add_all(%r, [{...}, ...])" % (model, model))
            total, groups = operation.add_groups(model, shard)
            results: List[Any] = [None] * total
            for positions, op in groups:
                objects: List[Any] = await self._run(op)
                for position, obj in zip(positions, objects):
                    results[position] = obj
            return results
        rows = list(rows)
        if not rows:
            return []   # nothing to send (the daemon would refuse an empty add)
        return await self._run(operation.add(model, rows, shard))

    @overload
    async def get(self, model: Type[M], pk: Any, shard: Optional[str] = None, fresh: bool = False,
                  options: Iterable[Union[Include, str]] = ()) -> Optional[M]: ...
    @overload
    async def get(self, model: str, pk: Any, shard: Optional[str] = None, fresh: bool = False,
                  options: Iterable[Union[Include, str]] = ()) -> Optional[Object]: ...

    async def get(self, model: ModelRef, pk: Any, shard: Optional[str] = None, fresh: bool = False,
                  options: Iterable[Union[Include, str]] = ()) -> Any:
        return await self._run(operation.get(model, pk, shard, fresh, options))

    @overload
    def query(self, model: Type[M]) -> AsyncQuery[M]: ...
    @overload
    def query(self, model: str) -> AsyncQuery[Object]: ...

    def query(self, model: ModelRef) -> AsyncQuery[Any]:
        """A query; building it sends nothing, its terminal calls are coroutines."""
        return AsyncQuery(self, model)

    async def aggregate(self, model: ModelRef, select: Iterable[Sequence[str]], *, where: Where = None,
                        group_by: Iterable[str] = (), having: Optional[Condition] = None,
                        order_by: Iterable[Any] = (), limit: Optional[int] = None, shard: Optional[str] = None,
                        shards: Optional[Iterable[str]] = None) -> ResultList[Dict[str, Any]]:
        return await self._run(operation.aggregate(operation.aggregate_request(
            model, select, where, group_by, having, order_by, limit, shard, shards)))

    async def refresh(self, obj: O, with_for_update: bool = False) -> O:
        return await self._run(operation.refresh(obj, with_for_update))

    async def load(self, obj: BaseObject, relationship: str) -> Any:
        return await self._run(operation.load(obj, relationship))

    async def update(self, obj: O, values: Optional[Mapping[str, Any]] = None, /, **columns: Any) -> O:
        return await self._run(operation.update(obj, dict(values or {}, **columns)))

    async def delete(self, obj: KeyRef) -> None:
        await self._run(operation.delete(obj))

    def begin(self) -> AsyncTransaction:
        """`await session.begin()` or `async with session.begin(): ...` (commit at the end,
        rollback when the block raises)."""
        return AsyncTransaction(self)

    async def commit(self, label: Optional[str] = None) -> CommitResult:
        return await self._run(operation.commit(label))

    async def rollback(self) -> List[str]:
        return await self._run(operation.shards_of("rollback"))

    async def transaction_status(self, label: str) -> bool:
        return await self._run(operation.transaction_status(label))

    async def expunge(self, obj: KeyRef) -> bool:
        return await self._run(operation.expunge(obj))

    async def expunge_all(self) -> int:
        return await self._run(operation.expunge_all())

    async def identity_keys(self, model: Optional[ModelRef] = None) -> List[IdentityKey]:
        return await self._run(operation.identity_keys(model))

    @overload
    async def subscribe(self, model: Type[M], where: Where = None,
                        events: Optional[Iterable[str]] = None) -> AsyncSubscription[M]: ...
    @overload
    async def subscribe(self, model: str, where: Where = None,
                        events: Optional[Iterable[str]] = None) -> AsyncSubscription[Object]: ...

    async def subscribe(self, model: ModelRef, where: Where = None,
                        events: Optional[Iterable[str]] = None) -> AsyncSubscription[Any]:
        feed, factory = await self._run(operation.subscribe(model, where, events, self._connection.router,
                                                            AsyncFeed))
        assert isinstance(feed, AsyncFeed)
        return AsyncSubscription(self, feed, factory)
