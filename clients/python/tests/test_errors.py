"""Every error class, each provoked on a real daemon (all but `internal`, which is a daemon
bug and has no honest trigger: its mapping is checked with the others), and the session
going on afterwards."""

from __future__ import annotations

import re
import time
import unittest
import uuid
from pathlib import Path
from typing import Any, Callable, List, Type

from daemon import REPOSITORY, STATION, Daemon, Layout, psql, unique, weather
from layout_case import LayoutCase

import shardd
from shardd import col
from shardd.shard_error import ERROR_CLASSES, error_from_answer


def protocol_codes() -> List[str]:
    """The codes of docs/protocol.md section 10 (the contract's table)."""
    text = (REPOSITORY / "docs" / "protocol.md").read_text()
    section = text.split("## 10. Error codes", 1)[1].split("\n## ", 1)[0]
    codes: List[str] = []
    for line in section.splitlines():
        if line.startswith("| `"):
            codes.extend(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return codes


class ErrorMappingTests(unittest.TestCase):
    def test_one_class_per_protocol_code(self) -> None:
        codes = protocol_codes()
        self.assertIn("internal", codes)
        self.assertEqual(sorted(ERROR_CLASSES), sorted(codes + ["too_many_connections"]))
        self.assertEqual(len({cls for cls in ERROR_CLASSES.values()}), len(ERROR_CLASSES))

    def test_each_class_carries_code_message_details_and_shard(self) -> None:
        for code, cls in ERROR_CLASSES.items():
            with self.subTest(code=code):
                error = error_from_answer({"ok": False, "error": {"code": code, "message": "what to do", "shard": "asia",
                                                                  "extra": [1]}})
                self.assertIs(type(error), cls)
                self.assertIsInstance(error, shardd.ShardError)
                self.assertEqual((error.code, error.message, error.shard, str(error)),
                                 (code, "what to do", "asia", "what to do"))
                self.assertEqual(error.details, {"shard": "asia", "extra": [1]})
        internal = error_from_answer({"ok": False, "error": {"code": "internal", "message": "a bug"}})
        self.assertIsInstance(internal, shardd.InternalError)
        future = error_from_answer({"ok": False, "error": {"code": "from_the_future", "message": "new"}})
        self.assertIs(type(future), shardd.ShardError)
        self.assertEqual(future.code, "from_the_future", "a code this library does not know is kept")


class DaemonErrorTests(LayoutCase):
    """The codes one daemon produces, over one connection that goes on after each."""

    server = "max_result_rows = 3\nmax_line_bytes = 4096\nrequest_timeout_ms = 600"
    extra = STATION

    def setUp(self) -> None:
        self.session = self.daemon.session()
        self.addCleanup(self.session.close)

    def raises(self, cls: Type[shardd.ShardError], call: Callable[[], Any]) -> Any:
        with self.assertRaises(cls) as raised:
            call()
        error = raised.exception
        self.assertEqual(type(error), cls)
        self.assertTrue(error.message, "every error has a message")
        self.assertTrue(self.session.ping(), "the session goes on after %s" % error.code)
        return error

    def test_request_errors(self) -> None:
        s = self.session
        bad_json = error_from_answer(s._connection.exchange_line(b"{not json"))
        self.assertIsInstance(bad_json, shardd.BadJSON)
        self.assertTrue(s.ping())
        self.raises(shardd.BadRequest, lambda: s.request("get", model="Report"))
        self.raises(shardd.BadRequest, lambda: s.request("get", model="Report", pk=1, color="red"))
        self.raises(shardd.UnknownOp, lambda: s.request("fly"))
        self.raises(shardd.UnknownModel, lambda: s.query("Airport").count())
        error = self.raises(shardd.UnknownColumn, lambda: s.query("Report").order_by("humidity").first())
        self.assertEqual(error.column, "humidity")
        self.raises(shardd.UnknownShard, lambda: s.get("Report", 1, shard="moon"))
        self.raises(shardd.InvalidValue, lambda: s.add("Report", location_id=1, temperature="hot"))
        self.raises(shardd.NoShard, lambda: s.add("WeatherLocation", continent="Atlantis", city="x"))
        self.raises(shardd.NotFound, lambda: s.delete(("Report", 10 ** 9, "asia")))
        self.raises(shardd.Forbidden, lambda: s.request("sql", sql="SELECT 1", shard="asia"))

    def test_row_errors(self) -> None:
        s = self.session
        location = s.add("WeatherLocation", continent="Asia", city=unique())
        self.raises(shardd.UnknownRelationship, lambda: s.load(location, "stations"))
        error = self.raises(shardd.ShardKeyChange, lambda: s.update(location, continent="Europe"))
        self.assertEqual(error.shard, "asia")
        code = uuid.uuid4().hex[:8]
        s.add("Station", shard="asia", code=code, name="Narita " + code)
        s.add("Station", shard="north_america", code=code, name="Newark " + code)
        s.commit()
        error = self.raises(shardd.ConstraintViolation,
                            lambda: s.add("Station", shard="asia", code=code + "x", name="Narita " + code))
        self.assertEqual(error.shard, "asia")
        fresh = self.daemon.session()
        self.addCleanup(fresh.close)
        with self.assertRaises(shardd.AmbiguousIdentity) as raised:
            fresh.get("Station", code)
        self.assertEqual(sorted(raised.exception.keys), [("Station", (code,), "asia"), ("Station", (code,), "north_america")])
        self.assertEqual(fresh.get("Station", code, shard="asia").name, "Narita " + code)  # type: ignore[union-attr]

    def test_result_too_large(self) -> None:
        s = self.session
        s.add_all("WeatherLocation", [{"continent": "Europe", "city": unique()} for _ in range(4)])
        s.commit()
        self.raises(shardd.ResultTooLarge, lambda: s.query("WeatherLocation").all())
        self.assertEqual(len(s.query("WeatherLocation").limit(3).all()), 3, "a limit within the bound is answered")

    def test_line_too_long_closes_the_connection(self) -> None:
        doomed = self.daemon.session()
        with self.assertRaises(shardd.LineTooLong):
            doomed.add("WeatherLocation", continent="Asia", city="x" * 5000)
        with self.assertRaises(shardd.ConnectionLost):
            doomed.ping()

    def test_timeout(self) -> None:
        s = self.session
        location = s.add("WeatherLocation", continent="Asia", city=unique())
        report = s.add("Report", location_id=location.id, temperature=1.0)
        s.commit()
        s.refresh(report, with_for_update=True)   # the row (on SQLite, the shard) is locked
        other = self.daemon.session()
        self.addCleanup(other.close)
        theirs = other.get("Report", report.id, shard="asia")
        assert theirs is not None
        with self.assertRaises(shardd.Timeout) as raised:
            other.update(theirs, temperature=2.0)
        self.assertEqual(raised.exception.shard, "asia")
        s.rollback()
        self.assertEqual(other.update(theirs, temperature=2.0).temperature, 2.0, "released: the write goes through")
        other.rollback()


class SQLiteDaemonErrorTests(DaemonErrorTests):
    layout = "sqlite"


class MixedDaemonErrorTests(DaemonErrorTests):
    layout = "mixed"


del DaemonErrorTests


class ConnectionLimitTests(unittest.TestCase):
    """too_many_connections and transaction_aborted (idle timeout), on a daemon of their own."""

    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon(weather("max_connections = 2\nidle_transaction_timeout_ms = 300"))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def connect(self) -> shardd.Session:
        # A closed connection leaves the daemon's count a moment later: retry briefly.
        deadline = time.monotonic() + 5
        while True:
            try:
                return self.daemon.session()
            except shardd.TooManyConnections:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def test_too_many_connections(self) -> None:
        first, second = self.connect(), self.connect()
        try:
            with self.assertRaises(shardd.TooManyConnections) as raised:
                self.daemon.session()
            self.assertEqual(raised.exception.code, "too_many_connections")

            async def third() -> None:
                await self.daemon.async_session()
            import asyncio
            with self.assertRaises(shardd.TooManyConnections):
                asyncio.run(third())
            self.assertTrue(first.ping() and second.ping(), "the others are served")
        finally:
            first.close()
            second.close()
        self.connect().close()

    def test_transaction_aborted(self) -> None:
        with self.connect() as session:
            city = unique()
            session.add("WeatherLocation", continent="Asia", city=city)
            time.sleep(0.9)
            with self.assertRaises(shardd.TransactionAborted):
                session.ping()
            self.assertTrue(session.ping(), "once")
            self.assertEqual(session.query("WeatherLocation").filter_by(city=city).count(), 0)
            self.assertEqual(session.identity_keys(), [])


class ShardUnavailableTests(unittest.TestCase):
    def test_a_shard_that_is_down(self) -> None:
        daemon = Daemon(weather(extra='[shards.offline]\nurl = "postgresql://shardd:secret@127.0.0.1:1/none?connect_timeout=2"\n'))
        self.addCleanup(daemon.stop)
        with daemon.session() as session:
            with self.assertRaises(shardd.ShardUnavailable) as raised:
                session.query("Report").set_shard("offline").all()
            self.assertEqual(raised.exception.shard, "offline")
            self.assertNotIn("secret", raised.exception.message)
            with self.assertRaises(shardd.ShardUnavailable):
                session.query("WeatherLocation").count()   # a fan-out that needs it fails
            self.assertEqual(session.query("WeatherLocation").filter_by(continent="Asia").all().shards, ["asia"])


class MovedAndBadConfigTests(unittest.TestCase):
    def test_moved_and_bad_config(self) -> None:
        daemon = Daemon(weather())
        self.addCleanup(daemon.stop)
        with daemon.session() as session:
            location = session.add("WeatherLocation", continent="Asia", city=unique())
            session.commit()
            job = session.request("move", model="WeatherLocation", value="Asia", to="europe")["job"]
            deadline = time.monotonic() + 30
            while True:
                (state,) = session.request("jobs", job=job)["jobs"]
                if state["state"] != "running" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(state["state"], "done", state)
            with self.assertRaises(shardd.Moved) as raised:
                session.refresh(location)
            self.assertEqual(raised.exception.key, ("WeatherLocation", location.key.pk, "europe"))
            self.assertEqual(session.get("WeatherLocation", location.id).identity_token, "europe")  # type: ignore[union-attr]

            conf = Path(daemon.config_path)
            conf.write_text(conf.read_text().replace('socket = "shardd.sock"', 'socket = "other.sock"'))
            with self.assertRaises(shardd.BadConfig) as refused:
                session.request("reload")
            self.assertTrue(any("socket" in line for line in refused.exception.errors), refused.exception.errors)
            self.assertTrue(session.ping())


class TransactionFailedTests(unittest.TestCase):
    """transaction_failed: a PostgreSQL shard loses the session's connection before commit
    (mixed layout only: PostgreSQL's pg_terminate_backend does it)."""

    def test_commit_that_loses_a_shard(self) -> None:
        application = "shardd_py_" + uuid.uuid4().hex[:8]
        layout = Layout("mixed", application_name=application)
        self.addCleanup(layout.stop)
        assert layout.schemas is not None
        with layout.daemon.session() as session:
            city = unique()
            session.add("WeatherLocation", continent="Asia", city=city)      # asia: PostgreSQL
            session.add("WeatherLocation", continent="Europe", city=city)    # europe: SQLite
            killed = psql(layout.schemas.base, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE application_name = '%s' AND state LIKE 'idle in transaction%%'" % application)
            self.assertEqual(killed.strip(), "1", "the transaction's connection to asia")
            time.sleep(0.1)
            with self.assertRaises(shardd.TransactionFailed) as raised:
                session.commit()
            error = raised.exception
            self.assertEqual((error.outcome, error.committed, error.failed), ("rolled_back", [], ["asia"]))
            self.assertTrue(session.ping())
            self.assertEqual(session.query("WeatherLocation").filter(col("city") == city).count(), 0,
                             "two-phase commit: nothing committed")


if __name__ == "__main__":
    unittest.main()
