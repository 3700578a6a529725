"""Finding the socket (argument, SHARDD_SOCKET, ./shards.conf, ./shardd.sock), connecting to
a real daemon by each, and the errors of a socket nobody serves or a daemon that goes away."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import unittest
from pathlib import Path

from daemon import Daemon, weather

import shardd
import shardd.aio
from shardd.socket_path import resolve_socket, server_socket, server_socket_by_line

TEXTS = [
    ('[server]\nsocket = "run/a.sock"\n', "run/a.sock"),
    ("[server]\n  socket='lit\\eral.sock'\n", "lit\\eral.sock"),
    ('[server]\nstate_dir = "d"\nsocket   =   "b.sock"  # comment\n', "b.sock"),
    ('[shards.x]\nsocket = "not this"\n[server]\nsocket = "c.sock"\n', "c.sock"),
    ('server.socket = "dotted.sock"\n', "dotted.sock"),
    ('[ server ]\nsocket = "spaced.sock"\n', "spaced.sock"),
    ('[server]\nstate_dir = "data"\n', None),
    ('[server.limits]\nsocket = "not this either"\n', None),
    ('[server]\nsocket = "esc\\"aped\\t.sock"\n', 'esc"aped\t.sock'),
]


class SocketPathTests(unittest.TestCase):
    def test_the_fallback_rule_reads_every_form(self) -> None:
        for text, expected in TEXTS:
            with self.subTest(text=text):
                self.assertEqual(server_socket_by_line(text), expected)

    @unittest.skipIf(sys.version_info < (3, 11), "tomllib is Python 3.11+ (the fallback rule is tested above)")
    def test_tomllib_and_the_fallback_rule_agree(self) -> None:
        for text, expected in TEXTS:
            with self.subTest(text=text):
                self.assertEqual(server_socket(text), expected)

    def test_the_order_of_the_sources(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            self.assertEqual(resolve_socket(directory=directory, environment={}), directory + "/shardd.sock")
            Path(directory, "shards.conf").write_text('[server]\nsocket = "conf.sock"\n')
            self.assertEqual(resolve_socket(directory=directory, environment={}), directory + "/conf.sock")
            Path(directory, "shards.conf").write_text('[server]\nsocket = "/abs/conf.sock"\n')
            self.assertEqual(resolve_socket(directory=directory, environment={}), "/abs/conf.sock")
            self.assertEqual(resolve_socket(directory=directory, environment={"SHARDD_SOCKET": "env.sock"}),
                             directory + "/env.sock")
            self.assertEqual(resolve_socket("arg.sock", directory=directory, environment={"SHARDD_SOCKET": "env.sock"}),
                             directory + "/arg.sock")
            self.assertEqual(resolve_socket("/x/arg.sock", directory=directory, environment={}), "/x/arg.sock")


class ConnectTests(unittest.TestCase):
    def test_connect_finds_the_daemon_by_each_source(self) -> None:
        daemon = Daemon(weather().replace('socket = "shardd.sock"', 'socket = "custom.sock"'), socket_name="custom.sock")
        self.addCleanup(daemon.stop)
        here = os.getcwd()
        old = os.environ.pop("SHARDD_SOCKET", None)
        try:
            os.chdir(daemon.directory)     # ./shards.conf names custom.sock
            with shardd.connect() as session:
                self.assertEqual(session.socket, daemon.socket)
                self.assertTrue(session.ping())
            os.chdir(tempfile.gettempdir())
            os.environ["SHARDD_SOCKET"] = daemon.socket
            with shardd.connect() as session:
                self.assertEqual(session.socket, daemon.socket)

            async def by_environment() -> str:
                async with await shardd.aio.connect() as session:
                    self.assertTrue(await session.ping())
                    return session.socket
            self.assertEqual(asyncio.run(by_environment()), daemon.socket)
        finally:
            os.chdir(here)
            os.environ.pop("SHARDD_SOCKET", None)
            if old is not None:
                os.environ["SHARDD_SOCKET"] = old
        with shardd.connect(daemon.socket, client="test_connect") as session:
            self.assertEqual(session.server.shards, ["north_america", "asia", "europe", "south_america"])

    def test_no_daemon(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "nobody.sock")
            with self.assertRaises(shardd.CannotConnect) as raised:
                shardd.connect(path)
            self.assertIn(path, str(raised.exception))
            self.assertEqual((raised.exception.socket, raised.exception.code), (path, "cannot_connect"))
            with self.assertRaises(shardd.CannotConnect):
                asyncio.run(shardd.aio.connect(path))

    def test_a_daemon_that_stops(self) -> None:
        daemon = Daemon()
        session = daemon.session()
        feed = session.subscribe("Report")
        self.assertEqual(daemon.stop(), 0)
        with self.assertRaises(shardd.ConnectionLost) as raised:
            session.ping()
        self.assertEqual(raised.exception.socket, daemon.socket)
        self.assertIn(daemon.socket, str(raised.exception))
        with self.assertRaises(shardd.ConnectionLost):
            session.ping()
        with self.assertRaises(shardd.ConnectionLost):
            feed.poll(1)

    def test_an_async_session_whose_daemon_stops(self) -> None:
        daemon = Daemon()

        async def run() -> None:
            session = await daemon.async_session()
            feed = await session.subscribe("Report")
            waiting = asyncio.ensure_future(feed.poll())
            await asyncio.sleep(0.05)
            self.assertEqual(await asyncio.get_running_loop().run_in_executor(None, daemon.stop), 0)
            with self.assertRaises(shardd.ConnectionLost) as raised:
                await waiting
            self.assertEqual(raised.exception.socket, daemon.socket)
            with self.assertRaises(shardd.ConnectionLost):
                await session.ping()
            await session.close()
        asyncio.run(run())


if __name__ == "__main__":
    unittest.main()
