"""Connection: one blocking Unix-socket connection to the daemon, one JSON line per message.

Answers come back in request order (protocol.md 1), so a request's answer is the next
line that is not an event line; event lines met on the way go to their subscriptions."""

from __future__ import annotations

import socket as sockets
import struct
import sys
from typing import Any, Dict, Optional, TypeVar

from . import json_lines
from .event_router import EventRouter
from .operation import Operation
from .shard_error import CannotConnect, ConnectionLost, InvalidResponse, ShardError, error_from_answer

R = TypeVar("R")

# Compact, and NaN refused (values.to_wire refuses them first with a clearer message).
ENCODE = json_lines.encode
DECODE = json_lines.decode

# struct timeval as two native longs: true of Linux and macOS on 64-bit machines, where the
# timeout can be the kernel's (see _kernel_timeouts); elsewhere it stays Python's.
_TIMEVAL_IS_TWO_LONGS = sys.platform.startswith(("linux", "darwin")) and struct.calcsize("l") == 8


def _kernel_timeouts(sock: sockets.socket, timeout: float) -> bool:
    """Bounds each blocking receive and send of `sock` by `timeout` in the kernel
    (SO_RCVTIMEO, SO_SNDTIMEO), so that the socket can stay blocking: with a Python timeout,
    every recv and sendall is preceded by a poll(), a system call and a wait of its own,
    which cost a small request more than all the client's Python code. A receive past the
    timeout fails with EAGAIN (BlockingIOError). False where this cannot be done."""
    if not _TIMEVAL_IS_TWO_LONGS or not 0 < timeout < 2 ** 31:
        return False
    seconds = int(timeout)
    micros = int((timeout - seconds) * 1e6)
    if seconds == 0 and micros == 0:
        micros = 1   # a zero timeval would mean no timeout at all
    value = struct.pack("ll", seconds, micros)
    try:
        sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVTIMEO, value)
        sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_SNDTIMEO, value)
    except (OSError, AttributeError):
        return False
    return True


class Connection:
    def __init__(self, path: str, timeout: Optional[float] = None) -> None:
        self.path = path
        self.timeout = timeout
        self.router = EventRouter()
        self._socket = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        try:
            self._socket.settimeout(timeout)
            self._socket.connect(path)
        except OSError as error:
            self._socket.close()
            raise CannotConnect(path, error.strerror or str(error)) from None
        # The socket's own timeout between event reads: None (blocking) when the kernel
        # bounds its calls by `timeout` instead.
        self._socket_timeout = timeout
        if timeout is not None and _kernel_timeouts(self._socket, timeout):
            self._socket.settimeout(None)
            self._socket_timeout = None
        self._buffer = bytearray()
        self._lost: Optional[ConnectionLost] = None

    # --- Requests ------------------------------------------------------------------------

    def run(self, operation: Operation[R]) -> R:
        """Sends the request, reads its answer; the result, or the error raised."""
        answer = self.exchange_line(ENCODE(operation.request).encode())
        if answer.get("ok") is not True:
            raise error_from_answer(answer)
        return operation.parse(answer)

    def exchange(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """One request and its answer (as the daemon wrote it, `ok` true or false)."""
        return self.exchange_line(ENCODE(request).encode())

    def exchange_line(self, line: bytes) -> Dict[str, Any]:
        """Sends `line` (one JSON text, without its newline), reads the answer."""
        if self._lost is not None:
            raise self._lost
        orphans = self._orphan_requests() if self.router.orphans else b""
        try:
            try:
                self._socket.sendall(orphans + line + b"\n" if orphans else line + b"\n")
            except OSError as error:
                # The daemon may have answered and closed (line_too_long): that answer first.
                answer = self._answer_after_send_failure()
                if answer is not None:
                    return answer
                reason = "timed out" if isinstance(error, BlockingIOError) else error.strerror or str(error)
                raise self._lose(reason) from None
            if orphans:
                for _ in range(orphans.count(b"\n")):
                    self._answer()  # unsubscribes of feeds this side ended: their answers are dropped
            return self._answer()
        except ShardError:
            raise
        except BaseException as interruption:
            # KeyboardInterrupt and the like, between sending and reading: the answer would
            # be taken for the next request's, so the connection cannot go on (shardd.aio
            # handles cancellation without this).
            self._lose("a request was interrupted (%s); its answer would put the next ones out of step"
                       % type(interruption).__name__)
            raise

    def _orphan_requests(self) -> bytes:
        orphans = self.router.orphans
        if not orphans:
            return b""
        lines = b"".join(ENCODE({"op": "unsubscribe", "subscription": n}).encode() + b"\n" for n in orphans)
        orphans.clear()
        return lines

    def _answer_after_send_failure(self) -> Optional[Dict[str, Any]]:
        try:
            message = self._read_message(self.timeout if self.timeout is not None else 1.0)
        except ShardError:
            return None
        return message if message is not None and "ok" in message else None

    def _answer(self) -> Dict[str, Any]:
        while True:
            message = self._read_message(None)
            assert message is not None
            if "ok" in message:
                return message
            self._event(message)

    def _event(self, message: Dict[str, Any]) -> None:
        if "event" not in message:
            raise self._broken("the daemon sent a line that is neither an answer nor an event: %r" % (message,))
        self.router.deliver(message)

    # --- Events --------------------------------------------------------------------------

    def read_events(self, timeout: Optional[float]) -> bool:
        """Reads one line, which must be an event (no request is waiting); False when
        `timeout` seconds passed first."""
        if self._lost is not None:
            raise self._lost
        message = self._read_message(timeout)
        if message is None:
            return False
        if "ok" in message:
            raise self._broken("the daemon sent an answer while no request was waiting: %r" % (message,))
        self._event(message)
        return True

    # --- Lines ---------------------------------------------------------------------------

    def _read_message(self, timeout: Optional[float]) -> Optional[Dict[str, Any]]:
        """The next message; None when `timeout` (seconds, for event reads) passed first.
        Without a timeout it waits as long as the connection's own timeout allows."""
        buffer = self._buffer
        while True:
            if buffer:
                end = buffer.find(b"\n")
                if end >= 0:
                    line = buffer[:end]
                    del buffer[:end + 1]
                    try:
                        message = DECODE(line.decode())
                    except ValueError:  # also UnicodeDecodeError
                        if not line.strip():
                            continue  # blank lines are ignored (protocol.md 1)
                        raise self._broken("the daemon sent a line that is not JSON: %r" % bytes(line[:200])) from None
                    if type(message) is not dict:
                        raise self._broken("the daemon sent a line that is not a JSON object: %r" % bytes(line[:200]))
                    return message
            try:
                if timeout is not None:
                    self._socket.settimeout(timeout)
                try:
                    data = self._socket.recv(1 << 16)
                finally:
                    if timeout is not None:
                        self._socket.settimeout(self._socket_timeout)
            except (sockets.timeout, BlockingIOError):   # Python's timeout, or the kernel's
                if timeout is not None:
                    return None
                raise self._lose("no answer within %s s" % self.timeout) from None
            except OSError as error:
                raise self._lose(error.strerror or str(error)) from None
            if not data:
                raise self._lose("the daemon closed it")
            if not buffer and data.find(b"\n") == len(data) - 1:
                # The usual read: exactly one whole line (an answer), decoded without going
                # through the buffer; anything unusual about it is told by the way below.
                try:
                    message = DECODE(data[:-1].decode())
                except ValueError:
                    message = None
                if type(message) is dict:
                    return message
            buffer += data

    def _broken(self, reason: str) -> InvalidResponse:
        """The daemon broke the protocol: the connection cannot be trusted to stay in step."""
        self._lose("the daemon broke the protocol")
        return InvalidResponse(reason)

    def _lose(self, reason: str) -> ConnectionLost:
        if self._lost is None:
            self._lost = ConnectionLost(self.path, reason)
            self.router.fail(self._lost)
            self._socket.close()
        return self._lost

    @property
    def closed(self) -> bool:
        return self._lost is not None

    def close(self) -> None:
        """Closes the connection: the daemon rolls back the session's open transaction."""
        if self._lost is None:
            self._lost = ConnectionLost(self.path, "the session was closed")
            self.router.fail(self._lost)
            self._socket.close()
