"""The exceptions: one class per error code of the protocol (section 10, plus
`too_many_connections`), and the client's own (`ConnectionLost`, `CannotConnect`,
`SubscriptionOverflow`, ...), all under `ShardError`."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type

from .identity_key import IdentityKey


class ShardError(Exception):
    """An error answered by the daemon, or found by the client on its side of the socket.

    `code` is the protocol's spelling (`"unknown_column"`), `message` a sentence to act on,
    `details` the other members of the daemon's error object (`column`, `keys`, ...), and
    `shard` the shard it concerns, when one does.
    """

    code: str = "unknown"
    """The code of the class; an instance keeps the daemon's code even when this library
    does not know it yet (then the class is `ShardError` itself)."""

    def __init__(self, message: str, *, code: Optional[str] = None,
                 details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details: Dict[str, Any] = dict(details or {})

    @property
    def shard(self) -> Optional[str]:
        """The shard the error concerns (`shard_unavailable`, `timeout`, `not_found`, ...)."""
        shard = self.details.get("shard")
        return shard if isinstance(shard, str) else None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return "%s(%r, code=%r)" % (type(self).__name__, self.message, self.code)


# --- The daemon's codes (protocol.md 10) -------------------------------------------------

class BadJSON(ShardError):
    """The request line was not a JSON object."""
    code = "bad_json"


class BadRequest(ShardError):
    """A missing, unknown or ill-typed argument."""
    code = "bad_request"


class UnknownOp(ShardError):
    """An op the daemon does not know."""
    code = "unknown_op"


class UnknownModel(ShardError):
    """A model that shards.conf does not define."""
    code = "unknown_model"


class UnknownColumn(ShardError):
    """A column the model does not have (`details["column"]`)."""
    code = "unknown_column"

    @property
    def column(self) -> Optional[str]:
        column = self.details.get("column")
        return column if isinstance(column, str) else None


class UnknownShard(ShardError):
    """A shard that shards.conf does not define."""
    code = "unknown_shard"


class UnknownRelationship(ShardError):
    """A relationship the model does not have."""
    code = "unknown_relationship"


class InvalidValue(ShardError):
    """A value that does not fit its column's type or nullability (also raised before
    sending, for values JSON cannot carry: NaN, infinities, naive datetimes)."""
    code = "invalid_value"


class NoShard(ShardError):
    """The shard chooser cannot place the row (missing or unmapped key, parent not found)."""
    code = "no_shard"


class AmbiguousIdentity(ShardError):
    """`get` without a shard found the primary key on several shards; `keys` lists them."""
    code = "ambiguous_identity"

    @property
    def keys(self) -> List[IdentityKey]:
        return [IdentityKey.from_json(key) for key in self.details.get("keys", [])]


class NotFound(ShardError):
    """The row of the key no longer exists."""
    code = "not_found"


class ConstraintViolation(ShardError):
    """A shard refused the statement (unique, not null, foreign key, check)."""
    code = "constraint_violation"


class ShardKeyChange(ShardError):
    """An update would move a row to another shard."""
    code = "shard_key_change"


class ShardUnavailable(ShardError):
    """A shard could not be reached; `shard` names it."""
    code = "shard_unavailable"


class TransactionFailed(ShardError):
    """A commit did not complete: `outcome` is `rolled_back` (nothing committed) or
    `partial` (best effort only), with the `committed` and `failed` shards."""
    code = "transaction_failed"

    @property
    def outcome(self) -> Optional[str]:
        outcome = self.details.get("outcome")
        return outcome if isinstance(outcome, str) else None

    @property
    def committed(self) -> List[str]:
        return list(self.details.get("committed", []))

    @property
    def failed(self) -> List[str]:
        return list(self.details.get("failed", []))


class TransactionAborted(ShardError):
    """The daemon ended the session's transaction (idle timeout, shard lost, a move)."""
    code = "transaction_aborted"


class Timeout(ShardError):
    """The request ran past the daemon's `request_timeout_ms`."""
    code = "timeout"


class ResultTooLarge(ShardError):
    """More rows than the daemon's `max_result_rows`; add a `limit` or read by `pages`."""
    code = "result_too_large"


class LineTooLong(ShardError):
    """The request line was longer than `max_line_bytes`; the daemon closed the connection."""
    code = "line_too_long"


class Forbidden(ShardError):
    """Not allowed: the peer's uid, an admin op, or raw SQL not enabled."""
    code = "forbidden"


class Moved(ShardError):
    """The key names a shard the row has left by a move; `key` is its key now."""
    code = "moved"

    @property
    def key(self) -> Optional[IdentityKey]:
        key = self.details.get("key")
        return IdentityKey.from_json(key) if key is not None else None


class BadConfig(ShardError):
    """`reload` found mistakes in shards.conf or a change it cannot apply live (`errors`)."""
    code = "bad_config"

    @property
    def errors(self) -> List[str]:
        return list(self.details.get("errors", []))


class InternalError(ShardError):
    """A bug in the daemon; the message says what failed, and the daemon keeps serving."""
    code = "internal"


class TooManyConnections(ShardError):
    """The daemon already serves `max_connections` connections (docs/protocol.md's extension)."""
    code = "too_many_connections"


# --- The client's own codes (never sent by the daemon) -----------------------------------

class CannotConnect(ShardError):
    """Nothing accepts connections at the socket path (no daemon, or a stale socket file)."""
    code = "cannot_connect"

    def __init__(self, socket: str, reason: str) -> None:
        super().__init__("cannot connect to shardd at %s: %s (is the daemon running? start it with "
                         "`swift run shardd`, or give the socket: connect(socket=...) or SHARDD_SOCKET)"
                         % (socket, reason), details={"socket": socket})
        self.socket = socket


class ConnectionLost(ShardError):
    """The connection to the daemon closed; every waiting and later request of the session
    raises this. A request that was sent may still have run (check with a read)."""
    code = "connection_lost"

    def __init__(self, socket: str, reason: Optional[str] = None) -> None:
        super().__init__("lost the connection to shardd at %s%s" % (socket, " (%s)" % reason if reason else ""),
                         details={"socket": socket})
        self.socket = socket


class InvalidResponse(ShardError):
    """The daemon's answer was not what the protocol says (a bug on one side)."""
    code = "invalid_response"


class SubscriptionOverflow(ShardError):
    """A change feed ended because its events were not read fast enough: the daemon's
    bound (its `overflow` event) or this library's. Subscribe again and read what changed
    meanwhile."""
    code = "subscription_overflow"

    def __init__(self, subscription: int, why: str) -> None:
        super().__init__("subscription %d ended: %s; read events as they come, then subscribe again and "
                         "read what changed meanwhile" % (subscription, why),
                         details={"subscription": subscription})
        self.subscription = subscription


class NoResultFound(ShardError):
    """`Query.one()` found no row (SQLAlchemy's name)."""
    code = "no_result_found"


class MultipleResultsFound(ShardError):
    """`Query.one()` / `one_or_none()` found more than one row (SQLAlchemy's name)."""
    code = "multiple_results_found"


ERROR_CLASSES: Dict[str, Type[ShardError]] = {
    cls.code: cls for cls in (
        BadJSON, BadRequest, UnknownOp, UnknownModel, UnknownColumn, UnknownShard,
        UnknownRelationship, InvalidValue, NoShard, AmbiguousIdentity, NotFound,
        ConstraintViolation, ShardKeyChange, ShardUnavailable, TransactionFailed,
        TransactionAborted, Timeout, ResultTooLarge, LineTooLong, Forbidden, Moved, BadConfig,
        InternalError, TooManyConnections,
    )
}
"""The daemon's codes and their classes."""


def error_from_answer(answer: Mapping[str, Any]) -> ShardError:
    """The exception for a failed answer (`{"ok": false, "error": {...}}`); a code this
    library does not know yet becomes a plain `ShardError` that keeps it."""
    error = answer.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return InvalidResponse("the daemon's answer has \"ok\": false but no error object: %r" % (answer,))
    code: str = error["code"]
    message = error.get("message")
    details = {name: value for name, value in error.items() if name not in ("code", "message")}
    text = message if isinstance(message, str) else code
    cls = ERROR_CLASSES.get(code)
    if cls is None:
        return ShardError(text, code=code, details=details)
    return cls(text, details=details)

