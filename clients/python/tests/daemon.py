"""Daemon: a real `shardd` process for the tests, started from the Swift build in a temp
directory (never a mock), on the embedded default configuration (four SQLite shards) or a
shards.conf written for the test; and the PostgreSQL schemas of the mixed layout.

The binary is `$SHARDD_BINARY`, else `.build/debug/shardd` of this repository (build it
with `swift build --product shardd`). PostgreSQL comes from `$SHARDD_TEST_PG_URL`
(scripts/test.sh, or `eval "$(scripts/postgres.sh start)"`)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path
from typing import Dict, List, Optional

TESTS = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS.parent
REPOSITORY = PACKAGE_ROOT.parent.parent
# The tests run against this source tree, not an installed copy.
sys.path.insert(0, str(PACKAGE_ROOT))

import shardd  # noqa: E402
import shardd.aio  # noqa: E402

WEATHER_CONF = (REPOSITORY / "shards.conf").read_text()
"""The weather example, which is also the daemon's embedded default."""

STATION = """
[models.Station]
id = "client"
primary_key = ["code"]
[models.Station.columns]
code = "text"
name = { type = "text", unique = true }
"""
"""A model with a client key and a unique column, placed only by an explicit shard."""


def weather(server: str = "", extra: str = "", mixed: bool = False) -> str:
    """The weather example with lines added to `[server]` and `extra` appended; `mixed`
    puts asia and south_america on PostgreSQL (`$SHARDD_PG_A`, `$SHARDD_PG_B`)."""
    text = WEATHER_CONF.replace("[server]\n", "[server]\n" + (server + "\n" if server else ""), 1)
    if mixed:
        text = text.replace('url = "sqlite:data/asia.db"', 'url_env = "SHARDD_PG_A"')
        text = text.replace('url = "sqlite:data/south_america.db"', 'url_env = "SHARDD_PG_B"')
    return text + "\n" + extra


def binary() -> str:
    path = os.environ.get("SHARDD_BINARY") or str(REPOSITORY / ".build" / "debug" / "shardd")
    if not os.access(path, os.X_OK):
        raise RuntimeError("no shardd binary at %s: run `swift build --product shardd` in %s (or set SHARDD_BINARY)"
                           % (path, REPOSITORY))
    return path


class Daemon:
    """One shardd process; `config` None runs it with no shards.conf (the embedded default)."""

    def __init__(self, config: Optional[str] = None, environment: Optional[Dict[str, str]] = None,
                 socket_name: str = "shardd.sock") -> None:
        self.directory = tempfile.mkdtemp(prefix="shardd-py-")
        self.socket = os.path.join(self.directory, socket_name)
        self.config_path = os.path.join(self.directory, "shards.conf")
        self.log_path = os.path.join(self.directory, "shardd.log")
        self.environment = dict(environment or {})
        if config is not None:
            Path(self.config_path).write_text(config)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([binary()], cwd=self.directory, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=self._log,
                                        env={**os.environ, **self.environment})
        # Ready once it logs that it listens: no probe connection, which would count
        # against max_connections in the tests of that limit.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "listening on " + self.socket in self.log():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("shardd did not start listening on %s; its log:\n%s" % (self.socket, self.log()))

    def session(self, timeout: float = 60) -> shardd.Session:
        return shardd.connect(self.socket, timeout=timeout)

    async def async_session(self) -> shardd.aio.AsyncSession:
        return await shardd.aio.connect(self.socket)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as file:
            return file.read()

    def stop(self) -> Optional[int]:
        """SIGTERM (a graceful stop), then the exit status; the directory is removed."""
        status: Optional[int] = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                status = self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        else:
            status = self.process.returncode
        self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        return status


# --- PostgreSQL ----------------------------------------------------------------------------

PG_SKIP = ("SHARDD_TEST_PG_URL is not set: the mixed layout (2 SQLite + 2 PostgreSQL shards) needs a "
           "PostgreSQL server; run scripts/test.sh, or eval \"$(scripts/postgres.sh start)\" first")


def pg_url() -> Optional[str]:
    return os.environ.get("SHARDD_TEST_PG_URL") or None


def psql(url: str, sql: str) -> str:
    """Runs SQL with psql (which comes with the postgresql package scripts/test.sh installs)."""
    program = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if program is None:
        raise RuntimeError("no psql found (PATH or /usr/lib/postgresql/*/bin): install postgresql-client")
    done = subprocess.run([program, url, "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError("psql failed on %r: %s" % (sql, done.stderr.strip()))
    return done.stdout


def schema_url(base: str, schema: str) -> str:
    """`base` whose connections use `schema` (libpq's options, as TestPostgres.url does)."""
    return base + ("&" if "?" in base else "?") + "options=-c%20search_path%3D" + schema


class PostgresSchemas:
    """Fresh, empty schemas in the test database; `drop()` removes them."""

    def __init__(self, count: int, application_name: Optional[str] = None) -> None:
        base = pg_url()
        if base is None:
            raise unittest.SkipTest(PG_SKIP)
        self.base = base
        self.names: List[str] = ["t_py_" + uuid.uuid4().hex[:12] for _ in range(count)]
        psql(base, "; ".join("CREATE SCHEMA %s" % name for name in self.names))
        # An application_name lets a test find (and terminate) this daemon's connections only.
        suffix = "&application_name=" + application_name if application_name else ""
        self.urls = [schema_url(base, name) + suffix for name in self.names]

    def drop(self) -> None:
        psql(self.base, "; ".join("DROP SCHEMA IF EXISTS %s CASCADE" % name for name in self.names))


class Layout:
    """A daemon on one of the two layouts: `sqlite` (the embedded default: no shards.conf)
    or `mixed` (north_america and europe on SQLite, asia and south_america on PostgreSQL)."""

    def __init__(self, name: str, server: str = "", extra: str = "",
                 environment: Optional[Dict[str, str]] = None, application_name: Optional[str] = None) -> None:
        self.name = name
        self.schemas: Optional[PostgresSchemas] = None
        env = dict(environment or {})
        if name == "mixed":
            self.schemas = PostgresSchemas(2, application_name)
            env.update({"SHARDD_PG_A": self.schemas.urls[0], "SHARDD_PG_B": self.schemas.urls[1]})
            config: Optional[str] = weather(server, extra, mixed=True)
        elif server or extra:
            config = weather(server, extra)
        else:
            config = None
        try:
            self.daemon = Daemon(config, env)
        except BaseException:
            if self.schemas is not None:
                self.schemas.drop()
            raise

    def stop(self) -> Optional[int]:
        status = self.daemon.stop()
        if self.schemas is not None:
            self.schemas.drop()
        return status


def unique(prefix: str = "City") -> str:
    """A city name no other test uses (tests of one class share a daemon)."""
    return "%s %s" % (prefix, uuid.uuid4().hex[:10])
