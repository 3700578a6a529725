"""Where a connection's event lines go: to the feed of their subscription.

Event lines (they have `"event"` and no `"ok"`) arrive between answers. A subscription's
feed is registered when its `subscribe` answer is read, before any later line, so no event
of it can come first. A feed holds at most `Feed.LIMIT` unread events: past that it ends with
`SubscriptionOverflow` (as the daemon's own bound ends a subscription with an `overflow`
event), and its number goes to `orphans`, for the connection to unsubscribe."""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, Dict, List, Optional

from .shard_error import ShardError, SubscriptionOverflow


class Feed:
    """The unread events of one subscription, and how it ended."""

    LIMIT = 10_000

    def __init__(self, subscription: int) -> None:
        self.subscription = subscription
        self.events: Deque[Dict[str, Any]] = deque()
        self.ended: Optional[ShardError] = None

    def push(self, event: Dict[str, Any]) -> bool:
        """False when the event overflowed the feed (it ended instead)."""
        if self.ended is not None:
            return True
        if len(self.events) >= self.LIMIT:
            self.finish(SubscriptionOverflow(self.subscription, "%d events were not read" % self.LIMIT))
            return False
        self.events.append(event)
        self.wake()
        return True

    def finish(self, error: ShardError) -> None:
        if self.ended is None:
            self.ended = error
            self.wake()

    def wake(self) -> None:
        """Tells a waiting reader (the asyncio feed does)."""


class EventRouter:
    def __init__(self) -> None:
        self.feeds: Dict[int, Feed] = {}
        self.orphans: List[int] = []
        self.failure: Optional[ShardError] = None

    def register(self, feed: Feed) -> None:
        if self.failure is not None:
            feed.finish(self.failure)
        else:
            self.feeds[feed.subscription] = feed

    def unregister(self, subscription: int) -> None:
        self.feeds.pop(subscription, None)

    def deliver(self, event: Dict[str, Any]) -> None:
        subscription = event.get("subscription")
        feed = self.feeds.get(subscription) if isinstance(subscription, int) else None
        if feed is None:
            return  # a subscription this side already ended; the daemon may still send a few
        if event.get("event") == "overflow":
            del self.feeds[feed.subscription]
            feed.finish(SubscriptionOverflow(feed.subscription, "the daemon's bound of waiting events "
                                                                "(10,000 events or 16 MiB) was reached"))
        elif not feed.push(event):
            del self.feeds[feed.subscription]
            self.orphans.append(feed.subscription)

    def fail(self, error: ShardError) -> None:
        """The connection ended: every feed ends with `error`."""
        if self.failure is None:
            self.failure = error
        feeds = list(self.feeds.values())
        self.feeds.clear()
        for feed in feeds:
            feed.finish(error)
