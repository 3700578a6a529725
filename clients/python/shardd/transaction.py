"""Transaction: what `session.begin()` answers, usable as a context manager that commits
when its block ends and rolls back when the block raises (SQLAlchemy's `session.begin()`)."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, List, Optional, Type

from .results import CommitResult
from .shard_error import ShardError

if TYPE_CHECKING:
    from .session import Session


class Transaction:
    def __init__(self, session: "Session", shards: List[str]) -> None:
        self.session = session
        self.shards = shards
        """The shards `begin` answered (none: shards join as the transaction touches them)."""
        self.commit_result: Optional[CommitResult] = None
        """What the commit at the end of the block answered."""

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        if exc_type is None:
            self.commit_result = self.session.commit()
            return
        try:
            self.session.rollback()
        except ShardError:
            # The block's own exception is the one to see; a lost connection rolls back
            # on the daemon's side anyway.
            pass
