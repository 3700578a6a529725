"""Where the daemon's socket is when a program does not say (the rule of the Swift client's
`SocketPath`): the argument, else `SHARDD_SOCKET`, else the `[server] socket` of
`./shards.conf` (relative to that file's directory), else `./shardd.sock`.

shards.conf is read with `tomllib` on Python 3.11 and later. Python 3.9 and 3.10 have no
TOML parser in the standard library, so there (and for a file tomllib cannot read) the
socket is found by the daemon's fixed rule for clients without a TOML parser: the first line,
after optional blanks, that is `socket = "..."` inside the `[server]` table or
`server.socket = "..."`, with a basic (`"..."`, `\\n` and `\\t` read as escapes, any other
escaped character as itself) or literal (`'...'`) string on that line. The daemon refuses a
shards.conf where this rule would find another socket than its TOML parser does, so both
readings agree on every file it serves.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping, Optional

DEFAULT_SOCKET = "shardd.sock"


def resolve_socket(socket: Optional[str] = None, *, environment: Optional[Mapping[str, str]] = None,
                   directory: Optional[str] = None) -> str:
    """The absolute path of the daemon's socket, by the rule above."""
    directory = directory if directory is not None else os.getcwd()
    environment = environment if environment is not None else os.environ
    if socket:
        return os.path.join(directory, os.fspath(socket))
    from_environment = environment.get("SHARDD_SOCKET")
    if from_environment:
        return os.path.join(directory, from_environment)
    config = os.path.join(directory, "shards.conf")
    try:
        with open(config, encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return os.path.join(directory, DEFAULT_SOCKET)
    return os.path.join(directory, server_socket(text) or DEFAULT_SOCKET)


def server_socket(text: str) -> Optional[str]:
    """The `[server] socket` of a shards.conf text, or None when it sets none."""
    if sys.version_info >= (3, 11):
        import tomllib
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return server_socket_by_line(text)
        server = document.get("server")
        socket = server.get("socket") if isinstance(server, dict) else None
        return socket if isinstance(socket, str) else None
    return server_socket_by_line(text)


def server_socket_by_line(text: str) -> Optional[str]:
    """The fallback rule of the module's docstring (no TOML parser)."""
    in_server = False
    for raw in text.splitlines():
        line = raw.lstrip(" \t")
        if not line:
            continue
        if line.startswith("["):
            header = line[1:].split("]", 1)[0].replace(" ", "").replace("\t", "")
            in_server = header == "server"
            continue
        if in_server and line.startswith("socket"):
            rest = line[len("socket"):]
        elif line.startswith("server.socket"):
            rest = line[len("server.socket"):]
        else:
            continue
        rest = rest.lstrip(" \t")
        if not rest.startswith("="):
            continue
        return _string_value(rest[1:].lstrip(" \t"))
    return None


def _string_value(text: str) -> Optional[str]:
    if not text or text[0] not in "\"'":
        return None
    quote = text[0]
    value = []
    escaped = False
    for character in text[1:]:
        if escaped:
            value.append({"n": "\n", "t": "\t"}.get(character, character))
            escaped = False
        elif character == "\\" and quote == '"':
            escaped = True
        elif character == quote:
            return "".join(value)
        else:
            value.append(character)
    return None
