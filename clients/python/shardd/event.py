"""Event: one change of the change feed (protocol.md 12), as a subscription yields it."""

from __future__ import annotations

from typing import Any, Generic, Mapping, Optional, TypeVar

from .identity_key import IdentityKey
from .model import ObjectFactory

T = TypeVar("T")


class Event(Generic[T]):
    """A committed insert, update or delete of a row the subscription watches.

    `kind` is `"insert"`, `"update"` or `"delete"`; `object` the row after the write (before
    it, for a delete), of the subscribed model's class; `matches` (updates of a filtered
    subscription) whether the row matches after the write: drop it from a filtered view when
    False; `seq` the daemon's number of the change (increasing); `txid` when the commit
    spanned shards."""

    __slots__ = ("kind", "subscription", "seq", "key", "object", "matches", "txid")

    def __init__(self, wire: Mapping[str, Any], factory: ObjectFactory) -> None:
        self.kind: str = wire["event"]
        self.subscription: int = wire["subscription"]
        self.seq: int = wire.get("seq", 0)
        self.key = IdentityKey.from_json(wire["key"])
        self.object: T = factory.make({"key": wire["key"], "values": wire.get("values", {})})
        self.matches: Optional[bool] = wire.get("matches")
        self.txid: Optional[str] = wire.get("txid")

    def __repr__(self) -> str:
        return "<Event %s #%d %r%s>" % (self.kind, self.seq, self.object,
                                        "" if self.matches is None else " matches=%s" % self.matches)
