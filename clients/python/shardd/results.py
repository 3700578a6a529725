"""What calls answer besides objects: lists that say which shards were asked, pages,
commits, the daemon's hello."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, NamedTuple, Optional, TypeVar

T = TypeVar("T")


class ResultList(List[T]):
    """A list of results (objects, or aggregate rows) with `shards`: the shards the daemon
    actually asked, in shards.conf order (every read names them, protocol.md 5)."""

    def __init__(self, items: Iterable[T] = (), shards: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.shards: List[str] = list(shards)


class Page(ResultList[T]):
    """One page of `Query.page(size, after)`: at most `size` objects, and `next`, the
    cursor of the following page (None after the last one)."""

    def __init__(self, items: Iterable[T], shards: Iterable[str], next: Optional[str]) -> None:
        super().__init__(items, shards)
        self.next = next


class CountResult:
    """`Query.count_per_shard()`: the total, the rows of each shard, the shards asked.
    (Not a NamedTuple: a field named `count` would hide `tuple.count`.)"""

    __slots__ = ("count", "per_shard", "shards")

    def __init__(self, count: int, per_shard: Dict[str, int], shards: List[str]) -> None:
        self.count = count
        self.per_shard = per_shard
        self.shards = shards

    def __repr__(self) -> str:
        return "CountResult(count=%d, per_shard=%r, shards=%r)" % (self.count, self.per_shard, self.shards)


class CommitResult(NamedTuple):
    """What `commit` answers: the shards that committed; `txid` when the transaction wrote
    to several; `pending`: shards the daemon will still finish (its decision is durable)."""

    shards: List[str]
    txid: Optional[str]
    pending: List[str]


class ServerInfo(NamedTuple):
    """The daemon's `hello` answer."""

    server: str
    version: str
    protocol: int
    session: int
    shards: List[str]
    models: List[str]
    config_version: Optional[int]

    @classmethod
    def from_answer(cls, answer: Dict[str, Any]) -> "ServerInfo":
        return cls(answer.get("server", ""), answer.get("version", ""), answer.get("protocol", 0),
                   answer.get("session", 0), list(answer.get("shards", [])), list(answer.get("models", [])),
                   answer.get("config_version"))
