"""AsyncConnection: one asyncio connection to the daemon that many tasks share.

Requests are pipelined: each is written at once (the requests of one loop iteration in one
write) and its future joins a FIFO; the daemon answers in request order (protocol.md 1), so
each answer line resolves the oldest waiting future. A task cancelled while it waits leaves
its future in the FIFO, cancelled: its answer is still read, in its turn, and dropped, so the
answers after it reach their own requests. Event lines (they have "event" and no "ok") go to
their subscriptions' feeds instead."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple, TypeVar

from ..connection import ENCODE, DECODE
from ..event_router import EventRouter, Feed
from ..operation import Operation
from ..shard_error import CannotConnect, ConnectionLost, InvalidResponse, error_from_answer

R = TypeVar("R")


class AsyncFeed(Feed):
    """A feed whose reader awaits `waiter`."""

    def __init__(self, subscription: int) -> None:
        super().__init__(subscription)
        self.waiter: Optional["asyncio.Future[None]"] = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class AsyncConnection(asyncio.Protocol):
    def __init__(self, path: str, loop: asyncio.AbstractEventLoop) -> None:
        self.path = path
        self.router = EventRouter()
        self._loop = loop
        self._transport: Optional[asyncio.Transport] = None
        self._pending: Deque[Tuple[Optional["asyncio.Future[Any]"], Optional[Operation[Any]]]] = deque()
        self._buffer = bytearray()
        self._out: List[bytes] = []
        self._flush_scheduled = False
        self._writable: Optional["asyncio.Future[None]"] = None
        self._lost: Optional[ConnectionLost] = None
        self._closed: "asyncio.Future[None]" = loop.create_future()

    @classmethod
    async def open(cls, path: str) -> "AsyncConnection":
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_unix_connection(lambda: cls(path, loop), path)
        except OSError as error:
            raise CannotConnect(path, error.strerror or str(error)) from None
        return connection

    # --- Requests ------------------------------------------------------------------------

    async def run(self, operation: Operation[R]) -> R:
        """Sends the request and waits for its answer; the result, or the error raised."""
        if self._writable is not None:
            # The daemon is not reading (it stops past 256 unanswered requests): wait
            # rather than buffer without bound. Nothing is sent yet, so a cancellation here
            # leaves the connection in step.
            await asyncio.shield(self._writable)
        if self._lost is not None:
            raise self._lost
        future: "asyncio.Future[R]" = self._loop.create_future()
        self._enqueue(future, operation, operation.request)
        return await future

    def _enqueue(self, future: Optional["asyncio.Future[Any]"], operation: Optional[Operation[Any]],
                 request: Dict[str, Any]) -> None:
        self._pending.append((future, operation))
        self._out.append(ENCODE(request).encode() + b"\n")
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self._transport is not None and self._lost is None:
            data = b"".join(self._out)
            self._out.clear()
            self._transport.write(data)

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while self._lost is None:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if line.strip():
                self._message(line)
        del buffer[:start]
        if self.router.orphans and self._lost is None:
            for subscription in self.router.orphans:
                self._enqueue(None, None, {"op": "unsubscribe", "subscription": subscription})
            self.router.orphans.clear()

    def _message(self, line: bytearray) -> None:
        try:
            message = DECODE(line.decode())
        except ValueError:  # also UnicodeDecodeError
            self._broken("the daemon sent a line that is not JSON: %r" % bytes(line[:200]))
            return
        if not isinstance(message, dict):
            self._broken("the daemon sent a line that is not a JSON object: %r" % bytes(line[:200]))
            return
        if "ok" not in message:
            if "event" in message:
                self.router.deliver(message)
            else:
                self._broken("the daemon sent a line that is neither an answer nor an event: %r" % (message,))
            return
        if not self._pending:
            self._broken("the daemon sent an answer while no request was waiting: %r" % (message,))
            return
        future, operation = self._pending.popleft()
        if future is None or operation is None:
            return  # the unsubscribe of a feed this side ended: nobody waits for it
        ok = message.get("ok") is True
        if future.cancelled():
            if ok and operation.abandoned is not None:
                operation.abandoned(message)
            return
        if not ok:
            future.set_exception(error_from_answer(message))
        else:
            try:
                future.set_result(operation.parse(message))
            except Exception as error:  # a parse failure belongs to its caller, not the loop
                future.set_exception(error)

    def eof_received(self) -> Optional[bool]:
        return None  # the transport closes, then connection_lost

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._lose(str(exc) if exc is not None else "the daemon closed it")
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # --- Ending --------------------------------------------------------------------------

    def _broken(self, reason: str) -> None:
        error = InvalidResponse(reason)
        if self._pending:
            future, _ = self._pending[0]
            if future is not None and not future.done():
                future.set_exception(error)
        self._lose("the daemon broke the protocol: " + reason)

    def _lose(self, reason: str) -> None:
        if self._lost is not None:
            return
        self._lost = ConnectionLost(self.path, reason)
        pending = list(self._pending)
        self._pending.clear()
        for future, _ in pending:
            if future is not None and not future.done():
                future.set_exception(self._lost)
        self.router.fail(self._lost)
        self.resume_writing()
        if self._transport is not None:
            self._transport.close()

    @property
    def closed(self) -> bool:
        return self._lost is not None

    async def close(self) -> None:
        """Closes the connection (the daemon rolls back the open transaction); requests
        still waiting raise `ConnectionLost`."""
        if self._lost is None:
            self._flush()
            self._lose("the session was closed")
        if self._transport is not None:
            await asyncio.wait([self._closed], timeout=5)

