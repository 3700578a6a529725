"""A Python client for shardd, the horizontal sharding daemon, for SQLAlchemy users.

    import shardd
    from shardd import col, include

    with shardd.connect() as session:          # $SHARDD_SOCKET, ./shards.conf, ./shardd.sock
        tokyo = session.add("WeatherLocation", continent="Asia", city="Tokyo")
        session.add("Report", location_id=tokyo.id, temperature=80.0)
        session.commit()
        hot = session.query("Report").filter(col("temperature") >= 75).order_by("-temperature").all()
        print(hot[0].key, hot.shards)          # IdentityKey('Report', (1,), 'asia'), the shards asked

`shardd.aio.connect()` gives the same calls as coroutines. Pure standard library, Python 3.9+.
"""

from . import aio
from .column import Column, Computed, Ordering, col, now
from .condition import Condition, Relationship, and_, any_, has, not_, or_, rel
from .event import Event
from .identity_key import IdentityKey
from .include import Include, include
from .model import BaseObject, InstanceState, Model, Object, inspect
from .query import Query
from .results import CommitResult, CountResult, Page, ResultList, ServerInfo
from .session import Session, connect
from .shard_error import (ERROR_CLASSES, AmbiguousIdentity, BadConfig, BadJSON, BadRequest, CannotConnect,
                          ConnectionLost, ConstraintViolation, Forbidden, InternalError, InvalidResponse,
                          InvalidValue, LineTooLong, Moved, MultipleResultsFound, NoResultFound, NoShard, NotFound,
                          ResultTooLarge, ShardError, ShardKeyChange, ShardUnavailable, SubscriptionOverflow, Timeout,
                          TooManyConnections, TransactionAborted, TransactionFailed, UnknownColumn, UnknownModel,
                          UnknownOp, UnknownRelationship, UnknownShard)
from .socket_path import resolve_socket
from .subscription import Subscription
from .transaction import Transaction

__version__ = "0.1.0"

__all__ = [
    "aio", "connect", "Session", "Query", "Transaction", "Subscription", "Event",
    "Model", "Object", "BaseObject", "IdentityKey", "inspect", "InstanceState",
    "col", "now", "rel", "any_", "has", "and_", "or_", "not_", "include",
    "Column", "Computed", "Ordering", "Condition", "Relationship", "Include",
    "ResultList", "Page", "CountResult", "CommitResult", "ServerInfo", "resolve_socket",
    "ShardError", "ERROR_CLASSES",
    "BadJSON", "BadRequest", "UnknownOp", "UnknownModel", "UnknownColumn", "UnknownShard", "UnknownRelationship",
    "InvalidValue", "NoShard", "AmbiguousIdentity", "NotFound", "ConstraintViolation", "ShardKeyChange",
    "ShardUnavailable", "TransactionFailed", "TransactionAborted", "Timeout", "ResultTooLarge", "LineTooLong",
    "Forbidden", "Moved", "BadConfig", "InternalError", "TooManyConnections",
    "CannotConnect", "ConnectionLost", "InvalidResponse", "SubscriptionOverflow", "NoResultFound",
    "MultipleResultsFound",
]
