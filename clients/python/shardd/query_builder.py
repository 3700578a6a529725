"""QueryBuilder: the generative part of `Query` and `AsyncQuery` (each call returns a new
query, as SQLAlchemy's `Query` does), and the requests their terminal calls send."""

from __future__ import annotations

import copy
from typing import Any, Dict, Generic, Iterable, List, Mapping, Optional, Sequence, TypeVar, Union

from . import operation
from .column import Ordering, order_entry
from .condition import Condition, and_
from .include import Include, include_names
from .model import ObjectFactory, resolve
from .shard_error import BadRequest
from .values import to_wire

T = TypeVar("T")
Q = TypeVar("Q", bound="QueryBuilder[Any]")


class QueryBuilder(Generic[T]):
    def __init__(self, model: Any) -> None:
        self._model_name, self._factory = resolve(model)
        self._model = model
        self._where: List[Condition] = []
        self._order: List[str] = []
        self._limit: Optional[int] = None
        self._offset: Optional[int] = None
        self._include: List[str] = []
        self._shard: Optional[str] = None
        self._shards: Optional[List[str]] = None

    def _copy(self: Q) -> Q:
        clone = copy.copy(self)
        clone._where = list(self._where)
        clone._order = list(self._order)
        clone._include = list(self._include)
        return clone

    # --- Building ------------------------------------------------------------------------

    def filter(self: Q, *conditions: Condition) -> Q:
        """Adds conditions (all must hold): `filter(col("temperature") >= 80)`."""
        clone = self._copy()
        for condition in conditions:
            if not isinstance(condition, Condition):
                raise TypeError("filter takes conditions such as col(\"temperature\") >= 80, not %r; "
                                "use filter_by(name=value) for equalities" % (condition,))
            clone._where.append(condition)
        return clone

    where = filter

    def filter_by(self: Q, **equal: Any) -> Q:
        """Adds equalities: `filter_by(continent="Asia")` (None is IS NULL)."""
        clone = self._copy()
        for name, value in equal.items():
            if value is None:
                clone._where.append(Condition(["is_null", name]))
            else:
                clone._where.append(Condition(["=", name, to_wire(value)]))
        return clone

    def order_by(self: Q, *columns: Union[str, Ordering, Any]) -> Q:
        """Adds orderings: `"city"`, `"-temperature"` (descending), `col("t").desc()`."""
        clone = self._copy()
        clone._order.extend(order_entry(column) for column in columns)
        return clone

    def limit(self: Q, n: Optional[int]) -> Q:
        clone = self._copy()
        clone._limit = n
        return clone

    def offset(self: Q, k: Optional[int]) -> Q:
        clone = self._copy()
        clone._offset = k
        return clone

    def options(self: Q, *options: Union[Include, str]) -> Q:
        """Relationships to load with the objects: `options(include("reports"))`."""
        clone = self._copy()
        clone._include.extend(include_names(options))
        return clone

    def set_shard(self: Q, shard: str) -> Q:
        """Asks this shard only, whatever the execute chooser would pick (SQLAlchemy's
        `set_shard`)."""
        clone = self._copy()
        clone._shard, clone._shards = shard, None
        return clone

    def set_shards(self: Q, shards: Iterable[str]) -> Q:
        """Asks these shards only."""
        clone = self._copy()
        clone._shard, clone._shards = None, list(shards)
        return clone

    # --- Requests ------------------------------------------------------------------------

    def _where_json(self) -> Any:
        if not self._where:
            return None
        return and_(*self._where).to_json()

    def _base(self, op: str) -> Dict[str, Any]:
        request: Dict[str, Any] = {"op": op, "model": self._model_name}
        where = self._where_json()
        if where is not None:
            request["where"] = where
        operation.shards_arguments(request, self._shard, self._shards)
        return request

    def _refuse(self, call: str, what: Sequence[str]) -> None:
        # The daemon would ignore these for the op, so a query that relies on them would
        # silently mean something else (SQLAlchemy too refuses limit with update/delete).
        given = [name for name, present in (("limit", self._limit is not None),
                                            ("offset", self._offset is not None),
                                            ("order_by", bool(self._order))) if present and name in what]
        if given:
            raise BadRequest("%s() does not combine with %s: leave %s out of this query"
                             % (call, " and ".join(given), "them" if len(given) > 1 else "it"))

    def _query_request(self, limit: Optional[int] = None) -> Dict[str, Any]:
        request = self._base("query")
        if self._order:
            request["order_by"] = list(self._order)
        chosen = limit if limit is not None else self._limit
        if limit is not None and self._limit is not None:
            chosen = min(limit, self._limit)
        if chosen is not None:
            request["limit"] = chosen
        if self._offset is not None:
            request["offset"] = self._offset
        if self._include:
            request["include"] = list(self._include)
        return request

    def _page_request(self, size: int, after: Optional[str]) -> Dict[str, Any]:
        request = self._query_request()
        request["page_size"] = size
        if after is not None:
            request["after"] = after
        return request

    def _count_request(self) -> Dict[str, Any]:
        self._refuse("count", ("limit", "offset"))
        return self._base("count")

    def _update_request(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        self._refuse("update", ("limit", "offset", "order_by"))
        request = self._base("update_where")
        request["values"] = operation.values_json(values)
        return request

    def _delete_request(self) -> Dict[str, Any]:
        self._refuse("delete", ("limit", "offset", "order_by"))
        return self._base("delete_where")

    def _aggregate_request(self, select: Iterable[Sequence[str]], group_by: Iterable[str],
                           having: Optional[Condition], order_by: Iterable[Any],
                           limit: Optional[int]) -> Dict[str, Any]:
        self._refuse("aggregate", ("limit", "offset", "order_by"))
        request = operation.aggregate_request(self._model_name, select, None, group_by, having, order_by, limit,
                                              self._shard, self._shards)
        where = self._where_json()
        if where is not None:
            request["where"] = where
        return request

    @property
    def factory(self) -> ObjectFactory:
        return self._factory

    def __repr__(self) -> str:
        return "<%s %r>" % (type(self).__name__, self._query_request())
