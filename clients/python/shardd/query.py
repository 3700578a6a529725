"""Query: `session.query(model)`, built as SQLAlchemy's (`filter`, `filter_by`, `order_by`,
`limit`, `offset`, `options(include(...))`, `set_shard`), run by `all`, `first`, `one`,
`count`, `update`, `delete`, `page` / `pages` and `aggregate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar

from . import operation
from .condition import Condition
from .query_builder import QueryBuilder
from .results import CountResult, Page, ResultList
from .shard_error import MultipleResultsFound, NoResultFound

if TYPE_CHECKING:
    from .session import Session

T = TypeVar("T")


class Query(QueryBuilder[T]):
    def __init__(self, session: "Session", model: Any) -> None:
        super().__init__(model)
        self._session = session

    def all(self) -> ResultList[T]:
        """The objects, merged in order from every shard asked (`.shards` names them)."""
        return self._session._run(operation.query(self._query_request(), self._factory))

    def __iter__(self) -> Iterator[T]:
        return iter(self.all())

    def first(self) -> Optional[T]:
        """The first object, or None (asks for one row)."""
        objects = self._session._run(operation.query(self._query_request(limit=1), self._factory))
        return objects[0] if objects else None

    def one(self) -> T:
        """The only object; `NoResultFound` or `MultipleResultsFound` otherwise."""
        found = self.one_or_none()
        if found is None:
            raise NoResultFound("%s found no row; one() needs exactly one" % self._description())
        return found

    def one_or_none(self) -> Optional[T]:
        """The only object or None; `MultipleResultsFound` for more."""
        objects = self._session._run(operation.query(self._query_request(limit=2), self._factory))
        if len(objects) > 1:
            raise MultipleResultsFound("%s found more than one row; one() needs exactly one" % self._description())
        return objects[0] if objects else None

    def count(self) -> int:
        """The number of matching rows over the shards asked."""
        return self._session._run(operation.count(self._count_request())).count

    def count_per_shard(self) -> CountResult:
        return self._session._run(operation.count(self._count_request()))

    def update(self, values: Mapping[str, Any]) -> int:
        """`update_where`: sets `values` (plain or computed: `{"temperature": col("temperature") + 1.5}`)
        on every matching row; the number of rows changed."""
        return self._session._run(operation.write_where(self._update_request(values)))

    def delete(self) -> int:
        """`delete_where`: deletes every matching row; the number deleted."""
        return self._session._run(operation.write_where(self._delete_request()))

    def page(self, size: int, after: Optional[str] = None) -> Page[T]:
        """One page of at most `size` objects after the cursor `after` (protocol.md 8.1)."""
        return self._session._run(operation.page(self._page_request(size, after), self._factory))

    def pages(self, size: int) -> Iterator[Page[T]]:
        """Every page of `size` objects in turn, following the daemon's cursors: each page
        costs one bounded read per shard, however deep."""
        after: Optional[str] = None
        while True:
            page = self.page(size, after)
            if page:
                yield page
            if page.next is None:
                return
            after = page.next

    def aggregate(self, select: Iterable[Sequence[str]], group_by: Iterable[str] = (),
                  having: Optional[Condition] = None, order_by: Iterable[Any] = (),
                  limit: Optional[int] = None) -> ResultList[Dict[str, Any]]:
        """`aggregate` over this query's rows: `select` is `[("avg", "temperature"), ("count", "*")]`
        (a third item names the alias)."""
        return self._session._run(operation.aggregate(self._aggregate_request(select, group_by, having,
                                                                              order_by, limit)))

    def _description(self) -> str:
        return "query %s" % self._model_name
