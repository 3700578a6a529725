"""AsyncQuery: `Query` for an `AsyncSession`: the same building calls, and coroutines (and
an async iterator of pages) to run it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Iterable, Mapping, Optional, Sequence, TypeVar

from .. import operation
from ..condition import Condition
from ..query_builder import QueryBuilder
from ..results import CountResult, Page, ResultList
from ..shard_error import MultipleResultsFound, NoResultFound

if TYPE_CHECKING:
    from .async_session import AsyncSession

T = TypeVar("T")


class AsyncQuery(QueryBuilder[T]):
    def __init__(self, session: "AsyncSession", model: Any) -> None:
        super().__init__(model)
        self._session = session

    async def all(self) -> ResultList[T]:
        return await self._session._run(operation.query(self._query_request(), self._factory))

    async def first(self) -> Optional[T]:
        objects = await self._session._run(operation.query(self._query_request(limit=1), self._factory))
        return objects[0] if objects else None

    async def one(self) -> T:
        found = await self.one_or_none()
        if found is None:
            raise NoResultFound("query %s found no row; one() needs exactly one" % self._model_name)
        return found

    async def one_or_none(self) -> Optional[T]:
        objects = await self._session._run(operation.query(self._query_request(limit=2), self._factory))
        if len(objects) > 1:
            raise MultipleResultsFound("query %s found more than one row; one() needs exactly one" % self._model_name)
        return objects[0] if objects else None

    async def count(self) -> int:
        return (await self._session._run(operation.count(self._count_request()))).count

    async def count_per_shard(self) -> CountResult:
        return await self._session._run(operation.count(self._count_request()))

    async def update(self, values: Mapping[str, Any]) -> int:
        return await self._session._run(operation.write_where(self._update_request(values)))

    async def delete(self) -> int:
        return await self._session._run(operation.write_where(self._delete_request()))

    async def page(self, size: int, after: Optional[str] = None) -> Page[T]:
        return await self._session._run(operation.page(self._page_request(size, after), self._factory))

    async def pages(self, size: int) -> AsyncIterator[Page[T]]:
        """`async for page in query.pages(50)`: every page in turn, following the cursors."""
        after: Optional[str] = None
        while True:
            page = await self.page(size, after)
            if page:
                yield page
            if page.next is None:
                return
            after = page.next

    async def aggregate(self, select: Iterable[Sequence[str]], group_by: Iterable[str] = (),
                        having: Optional[Condition] = None, order_by: Iterable[Any] = (),
                        limit: Optional[int] = None) -> ResultList[Dict[str, Any]]:
        return await self._session._run(operation.aggregate(self._aggregate_request(select, group_by, having,
                                                                                    order_by, limit)))
