"""Session: one connection to the daemon, which is one daemon session (its identity map and
its transaction), with the calls of SQLAlchemy's `Session`; `connect()` opens one.

The daemon holds the identity map and the transaction: objects here are snapshots of its
answers, and closing the session rolls back what was not committed."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Type, TypeVar, Union, overload

from . import operation
from .condition import Condition
from .connection import Connection
from .event_router import Feed
from .identity_key import IdentityKey
from .include import Include
from .model import BaseObject, M, O, Object, ModelRef
from .operation import KeyRef, Operation, Where
from .query import Query
from .results import CommitResult, ResultList, ServerInfo
from .socket_path import resolve_socket
from .subscription import Subscription
from .transaction import Transaction

R = TypeVar("R")

CLIENT_NAME = "shardd-python"


def connect(socket: Optional[str] = None, *, timeout: Optional[float] = None, client: str = CLIENT_NAME) -> "Session":
    """A session with the daemon at `socket`; without one, at `$SHARDD_SOCKET`, else the
    `[server] socket` of ./shards.conf, else ./shardd.sock (see `shardd.resolve_socket`).

    `timeout` (seconds) bounds each wait for an answer; past it the connection is closed
    (`ConnectionLost`), since a late answer would put the next requests out of step. By
    default the daemon's own `request_timeout_ms` is the bound."""
    path = resolve_socket(socket)
    connection = Connection(path, timeout)
    try:
        server = connection.run(operation.hello(client))
    except BaseException:
        connection.close()
        raise
    return Session(connection, server)


class Session:
    def __init__(self, connection: Connection, server: ServerInfo) -> None:
        self._connection = connection
        self.server = server
        """The daemon's `hello`: version, session number, shards, models."""

    @property
    def socket(self) -> str:
        return self._connection.path

    def _run(self, op: Operation[R]) -> R:
        return self._connection.run(op)

    def close(self) -> None:
        """Ends the session: the daemon rolls back its open transaction."""
        self._connection.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<shardd.Session %d at %s>" % (self.server.session, self.socket)

    # --- Any op ---------------------------------------------------------------------------

    def request(self, op: str, **arguments: Any) -> Dict[str, Any]:
        """Any op of the protocol (admin ops too), with its arguments as JSON values; the
        answer's result fields. Errors raise as for every call."""
        return self._run(operation.raw(op, arguments))

    def ping(self) -> bool:
        return self._run(operation.ping())

    # --- Adding ---------------------------------------------------------------------------

    @overload
    def add(self, model: Type[M], /, *, shard: Optional[str] = None, **values: Any) -> M: ...
    @overload
    def add(self, model: M, /, *, shard: Optional[str] = None) -> M: ...
    @overload
    def add(self, model: str, /, *, shard: Optional[str] = None, **values: Any) -> Object: ...

    def add(self, model: Any, /, *, shard: Optional[str] = None, **values: Any) -> Any:
        """Adds one row, placed by the shard chooser (or on `shard`), and answers it with the
        values the daemon made (ids, defaults). A transient `Model` object becomes persistent
        in place. The first write opens the session's transaction: `commit()` to keep it."""
        if isinstance(model, BaseObject):
            if values:
                raise TypeError("add(obj) takes the object's own values; set them on the object")
            return self._run(operation.add(model, [model], shard))[0]
        return self._run(operation.add(model, [values], shard))[0]

    @overload
    def add_all(self, model: Iterable[M], /, *, shard: Optional[str] = None) -> List[M]: ...
    @overload
    def add_all(self, model: Type[M], rows: Iterable[Union[Mapping[str, Any], M]], /, *,
                shard: Optional[str] = None) -> List[M]: ...
    @overload
    def add_all(self, model: str, rows: Iterable[Mapping[str, Any]], /, *,
                shard: Optional[str] = None) -> List[Object]: ...

    def add_all(self, model: Any, rows: Any = None, /, *, shard: Optional[str] = None) -> List[Any]:
        """Adds rows in one request per model: `add_all("Report", [{...}, {...}])`, or
        SQLAlchemy's `add_all([tokyo, newyork])` with transient `Model` objects."""
        if rows is None:
            if isinstance(model, str):
                raise TypeError("add_all(%r) needs the rows: add_all(%r, [{...}, ...])" % (model, model))
            total, groups = operation.add_groups(model, shard)
            results: List[Any] = [None] * total
            for positions, op in groups:
                objects: List[Any] = self._run(op)
                for position, obj in zip(positions, objects):
                    results[position] = obj
            return results
        rows = list(rows)
        if not rows:
            return []   # nothing to send (the daemon would refuse an empty add)
        return self._run(operation.add(model, rows, shard))

    # --- Reading --------------------------------------------------------------------------

    @overload
    def get(self, model: Type[M], pk: Any, shard: Optional[str] = None, fresh: bool = False,
            options: Iterable[Union[Include, str]] = ()) -> Optional[M]: ...
    @overload
    def get(self, model: str, pk: Any, shard: Optional[str] = None, fresh: bool = False,
            options: Iterable[Union[Include, str]] = ()) -> Optional[Object]: ...

    def get(self, model: ModelRef, pk: Any, shard: Optional[str] = None, fresh: bool = False,
            options: Iterable[Union[Include, str]] = ()) -> Any:
        """The object with primary key `pk` (a value, or a tuple for a composite key), or
        None. Without `shard` every shard is asked (`AmbiguousIdentity` when several have
        it), unless the daemon's identity map holds it under one shard: then no SQL runs at
        all, unless `fresh`. `options=[include("reports")]` loads relationships too."""
        return self._connection.run(operation.get(model, pk, shard, fresh, options))

    @overload
    def query(self, model: Type[M]) -> Query[M]: ...
    @overload
    def query(self, model: str) -> Query[Object]: ...

    def query(self, model: ModelRef) -> Query[Any]:
        """A query of `model`; see `Query`."""
        return Query(self, model)

    def aggregate(self, model: ModelRef, select: Iterable[Sequence[str]], *, where: Where = None,
                  group_by: Iterable[str] = (), having: Optional[Condition] = None, order_by: Iterable[Any] = (),
                  limit: Optional[int] = None, shard: Optional[str] = None,
                  shards: Optional[Iterable[str]] = None) -> ResultList[Dict[str, Any]]:
        """`aggregate`: `select` items are `(fn, column)` or `(fn, column, alias)`, fn one of
        count/sum/min/max/avg (`("count", "*")`); rows keyed by group column and alias
        (default `fn_column`, or `count` for `count *`), combined exactly across shards."""
        return self._run(operation.aggregate(operation.aggregate_request(
            model, select, where, group_by, having, order_by, limit, shard, shards)))

    def refresh(self, obj: O, with_for_update: bool = False) -> O:
        """Reads the row again from its shard, into `obj`. `with_for_update` also locks it
        for this session's transaction (which it opens) until commit or rollback; on a
        SQLite shard that is the shard's write lock."""
        return self._run(operation.refresh(obj, with_for_update))

    def load(self, obj: BaseObject, relationship: str) -> Any:
        """Loads a relationship of `obj` from its shard: a list (to-many) or an object or
        None (to-one); it becomes `obj`'s attribute too."""
        return self._run(operation.load(obj, relationship))

    # --- Writing --------------------------------------------------------------------------

    def update(self, obj: O, values: Optional[Mapping[str, Any]] = None, /, **columns: Any) -> O:
        """`update`: sets columns of `obj`'s row (plain or computed values:
        `update(report, temperature=col("temperature") + 1.5)`); `obj` gets the row as the
        shard wrote it."""
        return self._run(operation.update(obj, dict(values or {}, **columns)))

    def delete(self, obj: KeyRef) -> None:
        """Deletes the object's row now (SQLAlchemy waits for the flush; the daemon has no
        flush: the write is part of the transaction until commit)."""
        self._run(operation.delete(obj))

    # --- Transactions ---------------------------------------------------------------------

    def begin(self) -> Transaction:
        """Opens the transaction explicitly (reads then see its writes); as a context
        manager, commits when the block ends and rolls back when it raises."""
        return Transaction(self, self._run(operation.shards_of("begin")))

    def commit(self, label: Optional[str] = None) -> CommitResult:
        """Commits every shard the transaction touched (atomically across shards in the
        daemon's default `two_phase` mode). `label` (1 to 64 bytes) lets
        `transaction_status(label)` tell later whether it committed."""
        return self._run(operation.commit(label))

    def rollback(self) -> List[str]:
        """Rolls back every shard touched and empties the identity map; the shards."""
        return self._run(operation.shards_of("rollback"))

    def transaction_status(self, label: str) -> bool:
        """Whether the commit labelled `label` (in the last 24 hours) committed."""
        return self._run(operation.transaction_status(label))

    # --- The identity map -----------------------------------------------------------------

    def expunge(self, obj: KeyRef) -> bool:
        """Drops the key from the daemon's identity map (the row is untouched)."""
        return self._run(operation.expunge(obj))

    def expunge_all(self) -> int:
        """Empties the identity map; how many keys it held."""
        return self._run(operation.expunge_all())

    def identity_keys(self, model: Optional[ModelRef] = None) -> List[IdentityKey]:
        """The keys in this session's identity map (of `model` only, when given)."""
        return self._run(operation.identity_keys(model))

    # --- The change feed ------------------------------------------------------------------

    @overload
    def subscribe(self, model: Type[M], where: Where = None,
                  events: Optional[Iterable[str]] = None) -> Subscription[M]: ...
    @overload
    def subscribe(self, model: str, where: Where = None,
                  events: Optional[Iterable[str]] = None) -> Subscription[Object]: ...

    def subscribe(self, model: ModelRef, where: Where = None,
                  events: Optional[Iterable[str]] = None) -> Subscription[Any]:
        """Subscribes to the committed inserts, updates and deletes of `model`'s rows that
        match `where` (its own columns; `events` a subset of insert/update/delete), by any
        session; started when this returns. See `Subscription`."""
        feed, factory = self._run(operation.subscribe(model, where, events, self._connection.router, Feed))
        return Subscription(self, feed, factory)

