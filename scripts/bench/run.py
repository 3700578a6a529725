#!/usr/bin/env python3
"""The benchmark of issue 7 in one sitting: shardd against SQLAlchemy's ShardedSession and
against the machine's floor. Run it through scripts/bench.sh (which also guarantees that the
throwaway PostgreSQL cluster is stopped on every exit path):

    scripts/bench.sh [all]        build, workloads, floor, pyclient, commits, scaling, memory,
                                  moves, pages, then BENCHMARKS.md
    scripts/bench.sh quick        floor (short) and commits; prints its tables, keeps its figures
                                  in .bench-data/quick-*.json, leaves BENCHMARKS.md as it is
    scripts/bench.sh floor        issue 19: echo server, ping, gets, top-10 and group-by from one
                                  Python loop, the direct every-shard-at-once floor, daemon CPU
                                  per pipelined get and ping
    scripts/bench.sh workloads    workloads (1)-(7) on both layouts, the floor, (5) correctness
    scripts/bench.sh commits      commits in both modes (cross-shard and single-shard, 1 and 8
                                  clients) on both layouts, beside the machine's fsync
    scripts/bench.sh scaling      get-with-shard throughput against clients and against shards
    scripts/bench.sh memory       the daemon's RSS idle and with 1,000 idle sessions
    scripts/bench.sh moves        a continent (250,000 reports) moved SQLite to SQLite and SQLite
                                  to PostgreSQL, idle and under weather load (issue 16)
    scripts/bench.sh pages        deep pages by offset and by cursor (page_size/after), and the
                                  cost of one change-feed subscriber (reading, filtering, or
                                  never reading) to gets and writes (issue 18)
    scripts/bench.sh pyclient     the get loop of (1) through the shardd package (clients/python)
                                  against the hand-written line client, in turns (issue 20;
                                  under a minute)
    scripts/bench.sh report       only rewrite BENCHMARKS.md from the stored results

Every step builds first (`swift build -c release`, retried while a concurrent edit breaks
the build), copies the binaries it uses into its temp folder (a rebuild meanwhile changes
nothing), starts the daemon itself on temp copies of generated configs, stores its figures
in .bench-data/results.json (a rerun of one step replaces that step's figures only) and
rewrites the generated part of BENCHMARKS.md.

Seeded data is cached under .bench-data/seeded/<layout>-<data version>/ (SQLite files, the
daemon's state folder, and a pg_dump per PostgreSQL shard): the version is a hash of the
seeding parameters, the models of shards.conf and the layout, so a change of any of them
seeds anew (--reseed forces it). Standard library only (the peer and the plot run with the
.venv-bench interpreter of scripts/peer/setup.sh; the Python client's rows use the shardd
package of clients/python, which scripts/peer/shardd_client.py imports from the tree).
"""
import argparse
import datetime
import hashlib
import json
import multiprocessing
import os
import queue
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import report  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "scripts", "peer"))
import benchlib  # noqa: E402
import shardd_client  # noqa: E402

DATA_DIR = os.path.join(ROOT, ".bench-data")
RESULTS = os.path.join(DATA_DIR, "results.json")
OUT_DIR = os.path.join(HERE, "results")
VENV_PYTHON = os.path.join(ROOT, os.environ.get("SHARDD_BENCH_VENV", ".venv-bench"), "bin", "python")
PEER = os.path.join(ROOT, "scripts", "peer", "sqlalchemy_peer.py")
PYCLIENT = os.path.join(ROOT, "scripts", "peer", "shardd_client.py")
PLOT = os.path.join(ROOT, "scripts", "peer", "plot.py")
RAWLOOP = os.path.join(HERE, "rawloop.py")
COMMITS = os.path.join(HERE, "commits.py")
GETLOOP = os.path.join(HERE, "getloop.py")
DIRECT = os.path.join(HERE, "direct.py")
FLOOR = os.path.join(HERE, "floor.py")
POSTGRES_SH = os.path.join(ROOT, "scripts", "postgres.sh")

# Bump when the way data is seeded changes (the rest of the data version is computed).
DATA_FORMAT = "2"
SEED = 20261121
WEATHER_SHARDS = ["north_america", "asia", "europe", "south_america"]
PG_SHARDS_OF_MIXED = {"europe", "south_america"}
PG_ROLE, PG_PASSWORD = "shardd", "shardd"
# The load that runs through a move (step moves).
MOVE_LOAD_CLIENTS = 4
MOVE_LOAD_MIX = "get=40,query=20,add=30,aggregate=10"
MOVE_BASELINE_S = 5
# Step pages (issue 18): deep pages over 4 SQLite shards, and the change feed's cost to writes.
PAGES_ORDER = ["-temperature", "id"]  # seeded temperatures have two decimals: ties, broken by id
PAGES_SIZE = 20
PAGES_DEPTHS = (1, 100, 1000)
# The subscribers of the feed part: none, every Report change, a where that needs the row
# before an update (no seeded or written temperature reaches 80: it matches nothing), and
# every Report change to a session that does not read its socket (protocol.md 12's bound).
FEED_SUBSCRIBERS = (("none", None), ("all", "no where"), ("hot", [">=", "temperature", 80]),
                    ("unread", "no where, never read"))
FEED_OPS = ("get", "add", "update")  # workload (1), then the two writes + commit
FEED_OUTBOX_EVENTS = 10_000  # the daemon's bound of waiting events per session (protocol.md 12)
FEED_CALIBRATION_EVENTS = 16_000  # changes made to find how many an unread subscriber is sent
FEED_PREFILL_CHUNK = 4_000  # rows of one prefill update_where (1,000 a shard), then a pause
FEED_PREFILL_PAUSE = 0.15
FEED_CALIBRATIONS = 3  # times the events sent before an overflow are counted, before the turns
# How many events an unread subscriber is sent before its overflow varies from one try to the
# next by several hundred (what its socket takes depends on the sizes of the daemon's writes):
# the prefill stays this far under the fewest counted, and the unread write turns run past the
# feed slice until they made this many more changes than the most counted needs.
FEED_UNREAD_MARGIN = 1_000
FEED_UNREAD_EXTRA = 400
# Step floor (issue 19 target 5): top-10 and group-by over 4 x 5,000 unindexed rows.
FLOOR_REPORTS_PER_SHARD = 5000
# Step pyclient (issue 20): a small data set (the client's cost does not depend on it).
PYCLIENT_LOCATIONS = 100
PYCLIENT_REPORTS_PER_LOCATION = 100


class Failure(Exception):
    pass


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def fmt_rate(value):
    return "-" if value is None else "{:,.0f}/s".format(value)


# --------------------------------------------------------------------------------------------
# Processes: every child runs in its own process group, so that an interrupt reaches the
# harness only and the harness ends exactly what it started.

class Processes:
    def __init__(self):
        self.live = {}

    def run(self, command, timeout, env=None, cwd=ROOT, check=True):
        """Runs command; returns stdout. Raises Failure (with stderr's tail) on a non-zero exit
        or a timeout; the child's process group is killed on any exception."""
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=env, cwd=cwd, start_new_session=True)
        self.live[process.pid] = process
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(process)
            out, err = process.communicate()
            raise Failure("timed out after %ds: %s; stderr: %s" % (timeout, short(command), tail(err)))
        except BaseException:
            self.kill(process)
            raise
        finally:
            self.live.pop(process.pid, None)
        if check and process.returncode != 0:
            raise Failure("exit %d: %s; stderr: %s" % (process.returncode, short(command), tail(err)))
        return out

    def start(self, command, log_path, env=None):
        handle = open(log_path, "ab")
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                   start_new_session=True)
        handle.close()
        self.live[process.pid] = process
        return process

    def forget(self, process):
        self.live.pop(process.pid, None)

    @staticmethod
    def kill(process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill_all(self):
        for process in list(self.live.values()):
            if process.poll() is None:
                self.kill(process)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self.live.clear()


def short(command):
    text = " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(command))
    return text if len(text) < 300 else text[:300] + "..."


def tail(text, lines=6):
    text = (text or "").strip().splitlines()
    return " | ".join(text[-lines:]) if text else "(empty)"


def last_json_line(out):
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise Failure("no JSON line in the output: %s" % tail(out))


class OtherCpu:
    """Samples, once a second, the CPU time of every process that is not this harness or one
    of its descendants (the developer's builds, another daemon...): the noise of a run on a
    shared 2-core machine. Short-lived processes between two samples are missed."""

    def __init__(self):
        self.me = os.getpid()
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.last = {}
        self.by_command = {}
        self.total = 0
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.sample(first=True)
        self.thread.start()

    def read(self):
        table = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    data = handle.read()
            except OSError:
                continue
            name = data[data.index("(") + 1:data.rindex(")")]
            fields = data[data.rindex(")") + 2:].split()
            table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), name)
        return table

    def sample(self, first=False):
        table = self.read()
        mine = {}

        def is_mine(pid, depth=0):
            if pid in mine:
                return mine[pid]
            if pid == self.me:
                result = True
            elif pid <= 1 or pid not in table or depth > 64:
                result = False
            else:
                result = is_mine(table[pid][0], depth + 1)
            mine[pid] = result
            return result
        for pid, (_, cpu, name) in table.items():
            previous = self.last.get(pid)
            self.last[pid] = cpu
            if first or is_mine(pid):
                continue
            delta = cpu - previous if previous is not None else 0
            if delta > 0:
                self.total += delta
                self.by_command[name] = self.by_command.get(name, 0) + delta
        for pid in list(self.last):
            if pid not in table:
                del self.last[pid]

    def loop(self):
        while not self.stopping.wait(1.0):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a sampler must never break the run
                pass

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        seconds = time.monotonic() - self.started
        top = sorted(self.by_command.items(), key=lambda item: -item[1])[:4]
        return {"cpu_seconds": round(self.total / self.ticks, 1), "wall_seconds": round(seconds, 1),
                "share_of_one_core": round(self.total / self.ticks / seconds, 3) if seconds > 0 else None,
                "top": [[name, round(t / self.ticks, 1)] for name, t in top]}


def cpu_ticks():
    """(all ticks, steal ticks) of /proc/stat: steal is the time the hypervisor ran something
    else while this VM wanted a core, the noise no process list shows."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values), values[7] if len(values) > 7 else 0


def steal_share(start):
    total, steal = cpu_ticks()
    return round((steal - start[1]) / max(1, total - start[0]), 4)


def machine_busy(seconds=2.0):
    """The share of all cores busy over a short sample of /proc/stat (before the run starts)."""
    def read():
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle
    total1, idle1 = read()
    time.sleep(seconds)
    total2, idle2 = read()
    return round(1 - (idle2 - idle1) / max(1, total2 - total1), 3)


# --------------------------------------------------------------------------------------------
# PostgreSQL: the throwaway cluster of scripts/postgres.sh, one database per PostgreSQL shard.

class Postgres:
    def __init__(self, procs):
        self.procs = procs
        self.dir = os.environ.get("SHARDD_PG_DIR") or "/tmp/shardd-pg-bench-%d" % os.getpid()
        self.port = os.environ.get("SHARDD_PG_PORT") or str(free_port())
        self.env = dict(os.environ, SHARDD_PG_DIR=self.dir, SHARDD_PG_PORT=self.port, PGPASSWORD=PG_PASSWORD,
                        PGOPTIONS="-c client_min_messages=warning")
        self.running = False

    def start(self):
        log("PostgreSQL: starting a throwaway cluster in %s on port %s" % (self.dir, self.port))
        out = self.procs.run([POSTGRES_SH, "start"], timeout=180, env=self.env)
        match = re.search(r"SHARDD_TEST_PG_URL='([^']+)'", out)
        if not match:
            raise Failure("scripts/postgres.sh start printed no URL")
        self.running = True
        self.test_url = match.group(1)

    def stop(self):
        if not self.running and not os.path.exists(self.dir):
            return
        try:
            self.procs.run([POSTGRES_SH, "stop"], timeout=120, env=self.env, check=False)
        finally:
            self.running = False
            try:
                os.unlink(self.dir.rstrip("/") + ".lock")
            except OSError:
                pass
        log("PostgreSQL: stopped and removed")

    def url(self, database):
        return "postgresql://%s:%s@127.0.0.1:%s/%s" % (PG_ROLE, PG_PASSWORD, self.port, database)

    def psql(self, sql, database="shardd_test"):
        return self.procs.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", sql],
                              timeout=300, env=self.env)

    def recreate(self, database):
        self.psql("DROP DATABASE IF EXISTS %s" % database)
        self.psql("CREATE DATABASE %s OWNER %s ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                  % (database, PG_ROLE))

    def dump(self, database, path):
        self.procs.run(["pg_dump", "-Fc", "--no-owner", "-f", path, "-d", self.url(database)], timeout=600, env=self.env)

    def restore(self, database, path):
        self.recreate(database)
        self.procs.run(["pg_restore", "--no-owner", "-j", "2", "-d", self.url(database), path], timeout=900, env=self.env)
        self.psql("ANALYZE", database)

    def version(self):
        try:
            return self.psql("SHOW server_version").strip()
        except Failure:
            return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# The daemon.

def call(path, requests, timeout=30):
    """Sends requests on one new connection; returns the answers (raises Failure on ok: false)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b"".join((json.dumps(r) + "\n").encode() for r in requests))
        reader = s.makefile("rb")
        answers = []
        for request in requests:
            line = reader.readline()
            if not line:
                raise Failure("shardd closed the connection")
            answer = json.loads(line)
            if not answer.get("ok"):
                raise Failure("shardd answered %s to %s" % (answer.get("error"), request.get("op")))
            answers.append(answer)
        return answers


def proc_status(pid):
    values = {}
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile"):
                    parts = value.split()
                    values[key] = int(parts[0])
    except OSError:
        pass
    return values


def process_cpu_seconds(pid):
    """utime + stime of a process (all its threads, ended ones too), from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Daemon:
    def __init__(self, bench, layout):
        self.bench = bench
        self.layout = layout
        self.process = None

    def start(self):
        layout = self.layout
        if os.path.exists(layout.socket):
            os.unlink(layout.socket)
        env = dict(os.environ, **layout.env)
        self.process = self.bench.procs.start([self.bench.bin("shardd"), "--config", layout.config, "--log-level", "warning"],
                                              layout.log, env=env)
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise Failure("shardd exited with %s at start (%s): %s"
                              % (self.process.returncode, layout.name, tail(open(layout.log, errors="replace").read())))
            if os.path.exists(layout.socket):
                try:
                    call(layout.socket, [{"op": "ping"}], timeout=5)
                    break
                except (OSError, Failure):
                    pass
            if time.monotonic() > deadline:
                raise Failure("shardd did not answer within 180 s (%s)" % layout.name)
            time.sleep(0.1)

    @property
    def pid(self):
        return self.process.pid

    def status(self):
        return proc_status(self.process.pid)

    def stop(self):
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log("shardd did not stop within 30 s of SIGTERM: killed")
                Processes.kill(process)
                process.wait()
            except ProcessLookupError:
                pass
        self.bench.procs.forget(process)


# --------------------------------------------------------------------------------------------
# Layouts: generated configs, seeded data, the cache.

class Layout:
    """One generated shards.conf on a temp folder, its data and its daemon."""

    def __init__(self, bench, name, title, shards, models, locations, reports_per_location, peer_map=None, server_lines=()):
        self.bench = bench
        self.name = name
        self.title = title
        self.shards = shards  # [(name, "sqlite"|"postgres")], in config order
        self.models = models
        self.locations = locations
        self.reports_per_location = reports_per_location
        self.peer_map = peer_map
        self.server_lines = list(server_lines)
        self.dir = os.path.join(bench.workdir, name)
        self.config = os.path.join(self.dir, "shards.conf")
        self.socket = os.path.join(self.dir, "shardd.sock")
        self.state = os.path.join(self.dir, "state")
        self.log = os.path.join(bench.workdir, "logs", "shardd-%s.log" % name)
        self.env = {}
        self.daemon = Daemon(bench, self)
        self.seeded_now = None

    # naming
    def database(self, shard):
        return "bench_%s_%s" % (self.name, shard)

    def sqlite_path(self, shard):
        return os.path.join(self.dir, shard + ".db")

    @property
    def pg_shards(self):
        return [name for name, backend in self.shards if backend == "postgres"]

    @property
    def sqlite_shards(self):
        return [name for name, backend in self.shards if backend == "sqlite"]

    @property
    def data_version(self):
        digest = hashlib.sha1(json.dumps([DATA_FORMAT, self.shards, self.models, self.locations,
                                          self.reports_per_location, SEED]).encode()).hexdigest()[:10]
        return "%s-%dx%d-%s" % (self.name, self.locations, self.reports_per_location, digest)

    @property
    def cache(self):
        return os.path.join(DATA_DIR, "seeded", self.data_version)

    @property
    def expected_reports(self):
        return self.locations * self.reports_per_location

    def write_config(self):
        os.makedirs(self.dir, exist_ok=True)
        lines = ["# generated by scripts/bench/run.py (layout %s)" % self.name, "[server]",
                 'socket = "%s"' % self.socket, 'state_dir = "%s"' % self.state] + self.server_lines + [""]
        for shard, backend in self.shards:
            lines.append("[shards.%s]" % shard)
            if backend == "sqlite":
                lines.append('url = "sqlite:%s"' % self.sqlite_path(shard))
            else:
                variable = "SHARDD_BENCH_%s_URL" % shard.upper()
                lines.append('url_env = "%s"' % variable)
                self.env[variable] = self.bench.pg.url(self.database(shard))
        lines.append("")
        with open(self.config, "w") as handle:
            handle.write("\n".join(lines) + self.models)

    def peer_shard_args(self):
        args = []
        for shard, backend in self.shards:
            if backend == "sqlite":
                url = "sqlite:///" + self.sqlite_path(shard)
            else:
                url = self.bench.pg.url(self.database(shard)).replace("postgresql://", "postgresql+psycopg2://", 1)
            args += ["--shard", "%s=%s" % (shard, url)]
        for item in self.peer_map or []:
            args += ["--map", item]
        return args

    def direct_shard_args(self):
        args = []
        for shard, backend in self.shards:
            url = "sqlite:" + self.sqlite_path(shard) if backend == "sqlite" else self.bench.pg.url(self.database(shard))
            args += ["--shard", "%s=%s" % (shard, url)]
        return args

    # data
    def clear(self):
        if os.path.isdir(self.dir):
            for entry in os.listdir(self.dir):
                path = os.path.join(self.dir, entry)
                if entry == "shards.conf":
                    continue
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        for shard in self.pg_shards:
            self.bench.pg.recreate(self.database(shard))

    def prepare(self, reseed=False):
        """Fresh data (from the cache, else seeded and cached), then the daemon started on it."""
        self.write_config()
        if not reseed and os.path.exists(os.path.join(self.cache, "meta.json")):
            self.restore()
            self.daemon.start()
            if self.counts_ok():
                return
            log("%s: the cached data does not have the expected rows: seeding anew" % self.name)
            self.daemon.stop()
        self.seed()
        self.restore()
        self.daemon.start()
        if not self.counts_ok():
            raise Failure("%s: seeded, but the counts are not %d locations and %d reports"
                          % (self.name, self.locations, self.expected_reports))

    def counts_ok(self):
        answers = call(self.socket, [{"op": "count", "model": "WeatherLocation"}, {"op": "count", "model": "Report"}],
                       timeout=120)
        return answers[0]["count"] == self.locations and answers[1]["count"] == self.expected_reports

    def restore(self):
        started = time.monotonic()
        self.clear()
        for entry in os.listdir(self.cache):
            source = os.path.join(self.cache, entry)
            if entry.endswith(".db"):
                shutil.copyfile(source, os.path.join(self.dir, entry))
            elif entry == "state":
                shutil.copytree(source, self.state)
        for shard in self.pg_shards:
            self.bench.pg.restore(self.database(shard), os.path.join(self.cache, shard + ".dump"))
        log("%s: data restored from %s (%.1f s)" % (self.name, os.path.relpath(self.cache, ROOT),
                                                     time.monotonic() - started))

    def seed(self):
        log("%s: seeding %d locations x %d reports through the daemon (weather seed)"
            % (self.name, self.locations, self.reports_per_location))
        self.clear()
        self.daemon.start()
        started = time.monotonic()
        out = self.bench.procs.run([self.bench.bin("weather"), "seed", "--socket", self.socket,
                                    "--locations", str(self.locations),
                                    "--reports-per-location", str(self.reports_per_location),
                                    "--batch-size", "1000", "--seed", str(SEED)], timeout=3600)
        seconds = time.monotonic() - started
        status = self.daemon.status()
        self.daemon.stop()
        rate = parse_seed_rate(out)
        log("%s: seeded in %.1f s (%s rows/s); daemon RSS after seeding %.1f MiB"
            % (self.name, seconds, rate, status.get("VmRSS", 0) / 1024))
        partial = self.cache + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        for shard in self.sqlite_shards:
            checkpoint(self.sqlite_path(shard))
            shutil.copyfile(self.sqlite_path(shard), os.path.join(partial, shard + ".db"))
        os.makedirs(os.path.join(partial, "state"))
        for entry in os.listdir(self.state):
            if entry.endswith(".db"):
                checkpoint(os.path.join(self.state, entry))
                shutil.copyfile(os.path.join(self.state, entry), os.path.join(partial, "state", entry))
        for shard in self.pg_shards:
            self.bench.pg.dump(self.database(shard), os.path.join(partial, shard + ".dump"))
        meta = {"data_version": self.data_version, "layout": self.name, "shards": self.shards,
                "locations": self.locations, "reports_per_location": self.reports_per_location, "seed": SEED,
                "seeded_at": now_iso(), "seconds": round(seconds, 2), "rows_per_second": rate,
                "rss_after_seed_kib": status.get("VmRSS"), "hwm_after_seed_kib": status.get("VmHWM"),
                "build": self.bench.build_info, "tool": "weather seed --batch-size 1000 --seed %d" % SEED}
        with open(os.path.join(partial, "meta.json"), "w") as handle:
            json.dump(meta, handle, indent=1)
        shutil.rmtree(self.cache, ignore_errors=True)
        os.rename(partial, self.cache)
        self.seeded_now = meta

    def cache_meta(self):
        try:
            with open(os.path.join(self.cache, "meta.json")) as handle:
                return json.load(handle)
        except OSError:
            return None


def checkpoint(path):
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix) and os.path.getsize(path + suffix) > 0 and suffix == "-wal":
            raise Failure("%s still has a WAL after a checkpoint" % path)


def parse_seed_rate(out):
    match = re.search(r"\(([\d,]+) rows/s", out)
    return int(match.group(1).replace(",", "")) if match else None


def models_text(hash_on_id=False, index_temperature=True):
    """The models of shards.conf, with an index on Report.temperature: workload (5) orders by
    it, and without the index both systems spend their time in the same full scans of the
    same files (SQLite's time, not the middleware's). The floor step wants those scans
    (issue 19 target 5: reads that outrun the inline budget): index_temperature=False."""
    with open(os.path.join(ROOT, "shards.conf")) as handle:
        text = handle.read()
    start = text.index("[models.")
    models = text[start:]
    models, count = re.subn(r'(?m)^temperature = "real"$', 'temperature = { type = "real", index = true }'
                            if index_temperature else 'temperature = "real"', models, count=1)
    if count != 1:
        raise Failure('shards.conf: no line temperature = "real" under [models.Report.columns] to index')
    if hash_on_id:
        models, count = re.subn(r'(\[models\.WeatherLocation\][^\[]*?)shard_by = \{[^\n]*\}',
                                r'\1shard_by = { column = "id", hash = true }', models, count=1)
        if count != 1:
            raise Failure("shards.conf: no shard_by line under [models.WeatherLocation] to replace")
    return models


# --------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = Processes()
        self.pg = Postgres(self.procs)
        self.workdir = tempfile.mkdtemp(prefix="shardd-bench-")
        os.makedirs(os.path.join(self.workdir, "logs"))
        os.makedirs(os.path.join(self.workdir, "bin"))
        self.build_info = None
        self.layouts = []
        self.records = []

    # ---- setup
    def bin(self, name):
        return os.path.join(self.workdir, "bin", name)

    def build(self):
        if self.args.no_build:
            log("build: skipped (--no-build)")
        else:
            for attempt in range(1, self.args.build_retries + 1):
                log("build: swift build -c release (attempt %d)" % attempt)
                started = time.monotonic()
                try:
                    self.procs.run(["swift", "build", "-c", "release"], timeout=3600)
                    log("build: done in %.0f s" % (time.monotonic() - started))
                    break
                except Failure as error:
                    if attempt == self.args.build_retries:
                        raise Failure("the release build failed %d times; last: %s" % (attempt, error))
                    log("build failed (a concurrent edit?); retrying in %d s: %s" % (self.args.build_wait, error))
                    time.sleep(self.args.build_wait)
        bin_path = self.procs.run(["swift", "build", "-c", "release", "--show-bin-path"], timeout=600).strip()
        for name in ("shardd", "weather", "storebench", "lineecho"):
            shutil.copy2(os.path.join(bin_path, name), self.bin(name))
        with open(self.bin("shardd"), "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:12]
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "Sources", "Package.swift", "Package.resolved")
        self.build_info = {"commit": commit, "sources_modified": bool(dirty.strip()),
                           "modified_files": len(dirty.strip().splitlines()),
                           "shardd_sha256": digest, "built_at": now_iso()}
        log("build: git %s%s, shardd sha256 %s" % (commit, " + uncommitted changes in Sources" if dirty.strip() else "",
                                                   digest))

    def venv(self):
        self.procs.run([os.path.join(ROOT, "scripts", "peer", "setup.sh")], timeout=1800)

    def layout(self, name, commit=None):
        if commit:
            # A layout of its own per commit mode, on empty shards (commits add their rows).
            base = name
            name = "commits_%s_%s" % (base, commit)  # also PostgreSQL database names
            shards = [(s, "postgres" if base == "mixed" and s in PG_SHARDS_OF_MIXED else "sqlite") for s in WEATHER_SHARDS]
            title = "4 SQLite shards" if base == "sqlite4" else "2 SQLite + 2 PostgreSQL shards"
            layout = Layout(self, name, title, shards, models_text(), 0, 0, server_lines=['commit = "%s"' % commit])
            self.layouts.append(layout)
            return layout
        if name == "pages":
            # One location per continent (weather seed takes the continents in turn): each
            # shard holds one location and --pages-reports-per-shard reports.
            layout = Layout(self, name, "4 SQLite shards", [(s, "sqlite") for s in WEATHER_SHARDS], models_text(),
                            len(WEATHER_SHARDS), self.args.pages_reports_per_shard)
            self.layouts.append(layout)
            return layout
        if name == "floor":
            # One location per continent: each shard holds one and 5,000 reports.
            layout = Layout(self, name, "4 SQLite shards", [(s, "sqlite") for s in WEATHER_SHARDS],
                            models_text(index_temperature=False), len(WEATHER_SHARDS), FLOOR_REPORTS_PER_SHARD)
            self.layouts.append(layout)
            return layout
        if name == "pyclient":
            layout = Layout(self, name, "4 SQLite shards", [(s, "sqlite") for s in WEATHER_SHARDS], models_text(),
                            PYCLIENT_LOCATIONS, PYCLIENT_REPORTS_PER_LOCATION)
            self.layouts.append(layout)
            return layout
        if name == "moves":
            layout = Layout(self, name, "4 SQLite shards + 1 PostgreSQL shard (empty)",
                            [(s, "sqlite") for s in WEATHER_SHARDS] + [("pg", "postgres")], models_text(),
                            self.args.locations, self.args.reports_per_location)
            self.layouts.append(layout)
            return layout
        if name == "sqlite4":
            layout = Layout(self, name, "4 SQLite shards", [(s, "sqlite") for s in WEATHER_SHARDS], models_text(),
                            self.args.locations, self.args.reports_per_location)
        elif name == "mixed":
            layout = Layout(self, name, "2 SQLite + 2 PostgreSQL shards",
                            [(s, "postgres" if s in PG_SHARDS_OF_MIXED else "sqlite") for s in WEATHER_SHARDS],
                            models_text(), self.args.locations, self.args.reports_per_location)
        else:
            count = int(name[len("hash"):])
            shards = ["shard_%02d" % i for i in range(1, count + 1)]
            # The peer's continent map only places new WeatherLocations, which no workload of
            # the sweep adds: every continent to the first shard.
            peer_map = ["%s=%s" % (c, shards[0]) for c in ("North America", "Asia", "Europe", "South America")]
            layout = Layout(self, name, "%d SQLite shards (WeatherLocation by hash of id)" % count,
                            [(s, "sqlite") for s in shards], models_text(hash_on_id=True),
                            self.args.locations, self.args.sweep_reports_per_location, peer_map)
        self.layouts.append(layout)
        return layout

    def cleanup(self):
        for layout in self.layouts:
            try:
                layout.daemon.stop()
            except Exception as error:  # noqa: BLE001 - keep cleaning up
                log("cleanup: %s" % error)
        self.procs.kill_all()
        try:
            self.pg.stop()
        except Exception as error:  # noqa: BLE001
            log("cleanup: PostgreSQL: %s" % error)
        logs = os.path.join(DATA_DIR, "logs")
        shutil.rmtree(logs, ignore_errors=True)
        try:
            shutil.copytree(os.path.join(self.workdir, "logs"), logs)
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- measurements
    def measure(self, base, command, parse, timeout, what):
        """Runs one measurement; appends and returns its record (with "error" on failure)."""
        record = dict(base)
        try:
            out = self.procs.run(command, timeout=timeout)
            record.update(parse(out))
            record.update(base)
            detail = fmt_rate(record.get("per_second"))
            if record.get("p50_us") is not None:
                detail += "  p50 %s us  p99 %s us" % (record.get("p50_us"), record.get("p99_us"))
            if record.get("errors"):
                detail += "  errors %s" % record["errors"]
            log("  %-58s %s" % (what, detail))
        except Failure as error:
            record["error"] = str(error)[:600]
            log("  %-58s FAILED: %s" % (what, error))
        self.records.append(record)
        return record

    def peer(self, layout, case, workload, clients=1, duration=None, count=None, extra=()):
        command = [VENV_PYTHON, PEER] + layout.peer_shard_args() + ["--workload", workload, "--clients", str(clients)]
        command += list(extra)
        command += ["--count", str(count)] if count else ["--duration", str(duration)]
        base = {"layout": layout.name, "case": case, "system": "sqlalchemy", "workload": workload,
                "clients": clients, "pipeline": 1, "shards": len(layout.shards)}
        return self.measure(base, command, python_result, timeout=(duration or 0) * 3 + 900,
                            what="%s %s sqlalchemy c=%d" % (layout.name, workload, clients))

    def pyclient(self, layout, case, workload, clients=1, pipeline=1, duration=None, count=None, extra=()):
        command = [sys.executable, PYCLIENT, "--socket", layout.socket, "--workload", workload,
                   "--clients", str(clients), "--pipeline", str(pipeline)] + list(extra)
        command += ["--count", str(count)] if count else ["--duration", str(duration)]
        base = {"layout": layout.name, "case": case, "system": "shardd-python", "workload": workload,
                "clients": clients, "pipeline": pipeline, "shards": len(layout.shards), "client": "package"}
        return self.measure(base, command, python_result, timeout=(duration or 0) * 3 + 900,
                            what="%s %s shardd-python c=%d p=%d" % (layout.name, workload, clients, pipeline))

    def weather(self, layout, case, clients=1, pipeline=1, duration=5, op="get"):
        """weather load of one op: get (get_shard_known) or ping (the floor on the same connections)."""
        command = [self.bin("weather"), "load", "--socket", layout.socket, "--mix", op + "=1", "--clients", str(clients),
                   "--pipeline", str(pipeline), "--duration", str(duration), "--seed", str(SEED), "--json"]
        workload = "get_shard_known" if op == "get" else op
        base = {"layout": layout.name, "case": case, "system": "shardd-weather", "workload": workload,
                "clients": clients, "pipeline": pipeline, "shards": len(layout.shards)}
        return self.measure(base, command, lambda out: weather_result(out, op), timeout=duration * 3 + 300,
                            what="%s %s shardd-weather c=%d p=%d" % (layout.name, workload, clients, pipeline))

    def rawloop(self, layout, case, op, shards=(), duration=5):
        command = [sys.executable, RAWLOOP, "--socket", layout.socket, "--op", op, "--duration", str(duration)]
        for shard in shards:
            command += ["--shard", shard]
        base = {"layout": layout.name, "case": case, "system": "shardd-rawloop",
                "workload": "ping" if op == "ping" else "get_shard_known", "clients": 1, "pipeline": 1,
                "shards": len(layout.shards)}
        return self.measure(base, command, python_result, timeout=duration * 3 + 120,
                            what="%s %s rawloop %s" % (layout.name, op, ",".join(shards) or "all"))

    def seed_insert(self, layout, case):
        """(7) through the Swift client: weather seed of new locations and their reports."""
        locations = max(1, self.args.insert_count // 1000)
        # weather seed sends each shard's reports apart, every shard at once: a batch of
        # insert_batch rows over all shards is then insert_batch / shards per shard, as the
        # direct floor's (one INSERT and one commit per shard and round).
        per_shard = max(1, self.args.insert_batch // len(layout.shards))
        command = [self.bin("weather"), "seed", "--socket", layout.socket, "--locations", str(locations),
                   "--reports-per-location", "1000", "--batch-size", str(per_shard), "--seed", str(SEED + 1)]
        base = {"layout": layout.name, "case": case, "system": "shardd-weather-seed", "workload": "insert",
                "clients": 1, "pipeline": 1, "shards": len(layout.shards)}

        def parse(out):
            rate = parse_seed_rate(out)
            if rate is None:
                raise Failure("no rate in weather seed's output: %s" % tail(out))
            return {"per_second": rate, "count": locations * 1001,
                    "note": "%d new locations x 1,000 reports, batches of %s rows per shard, every shard at once"
                    % (locations, "{:,}".format(per_shard))}
        return self.measure(base, command, parse, timeout=900, what="%s insert shardd-weather-seed" % layout.name)

    def scaling_point(self, layout, case, clients, duration):
        """One point of a scaling curve: gets with the shard known, by every system."""
        self.peer(layout, case, "get_shard_known", clients, duration)
        self.pyclient(layout, case, "get_shard_known", clients, 1, duration)
        self.weather(layout, case, clients, 1, duration)
        self.weather(layout, case, clients, self.args.pipeline, duration)

    def direct(self, layout, case, extra=()):
        # psycopg2 lives in the bench's venv; SQLite-only layouts need only the standard library.
        python = VENV_PYTHON if layout.pg_shards else sys.executable
        command = [python, DIRECT, "--duration", str(self.args.floor_duration)] + layout.direct_shard_args()
        command += list(extra)
        try:
            out = self.procs.run(command, timeout=600)
        except Failure as error:
            log("  direct statements FAILED: %s" % error)
            self.records.append({"layout": layout.name, "case": case, "system": "direct", "error": str(error)[:600]})
            return
        for line in out.strip().splitlines():
            record = json.loads(line)
            record.update({"layout": layout.name, "case": case})
            self.records.append(record)
            log("  %-58s round %.1f ms, slowest shard %.1f ms, every shard at once %s ms"
                % ("%s %s direct" % (layout.name, record["workload"]), record["round_ms"], record["slowest_shard_ms"],
                   record.get("at_once_ms")))

    def storebench(self, backends=("sqlite", "postgres")):
        results = []
        floor_db = os.path.join(self.workdir, "storebench.db")
        for backend, url, rows in (("sqlite", "sqlite:" + floor_db, self.args.store_rows_sqlite),
                                   ("postgres", self.pg.url("shardd_test"), self.args.store_rows_pg)):
            if backend not in backends:
                continue
            log("  storebench %s (%d rows, %d selects)" % (backend, rows, rows))
            try:
                out = self.procs.run([self.bin("storebench"), "--url", url, "--rows", str(rows), "--selects", str(rows)],
                                     timeout=900)
            except Failure as error:
                log("  storebench %s FAILED: %s" % (backend, error))
                results.append({"backend": backend, "error": str(error)[:600]})
                continue
            for line in out.strip().splitlines():
                record = json.loads(line)
                record["mean_us"] = round(1e6 / record["per_second"], 1) if record.get("per_second") else None
                results.append(record)
                log("    %-20s %s  (mean %s us)" % (record["workload"], fmt_rate(record["per_second"]), record["mean_us"]))
        return results

    # ---- steps
    def step_workloads(self):
        args = self.args
        duration = args.duration
        self.pg.start()
        section = {"started": now_iso(), "settings": {
            "duration_s": duration, "floor_duration_s": args.floor_duration, "insert_count": args.insert_count,
            "insert_batch": args.insert_batch, "locations": args.locations, "reports_per_location": args.reports_per_location,
            "pipeline": args.pipeline}, "layouts": {}}
        began = time.monotonic()
        store_pg = []
        for name in ("sqlite4", "mixed"):
            layout = self.layout(name)
            log("== workloads on %s" % layout.title)
            layout.prepare(args.reseed)
            info = {"title": layout.title, "shards": layout.shards, "data_version": layout.data_version,
                    "seed_meta": layout.cache_meta(), "seeded_this_run": layout.seeded_now is not None,
                    "rss_start_kib": layout.daemon.status().get("VmRSS")}
            fd = args.floor_duration
            # The floor over the socket first (a quiet daemon).
            self.rawloop(layout, "floor", "ping", duration=fd)
            if layout.sqlite_shards:
                self.rawloop(layout, "floor-sqlite", "get", layout.sqlite_shards, duration=fd)
            if layout.pg_shards:
                self.rawloop(layout, "floor-postgres", "get", layout.pg_shards, duration=fd)
                # libpq straight to the same cluster, in the same quiet minute (target 4's
                # bound adds it): after the inserts of (7) the cluster is busy for minutes
                # (checkpoint, autovacuum), and a select there took 188-289 µs against 110.
                log("== the floor: storebench (libpq), beside the daemon's PostgreSQL get")
                store_pg = self.storebench(("postgres",))
            # (1) one client, no pipelining
            self.peer(layout, "1", "get_shard_known", 1, duration)
            self.pyclient(layout, "1", "get_shard_known", 1, 1, duration)
            self.weather(layout, "1", 1, 1, duration)
            # (2) 16 clients, then pipelined
            self.peer(layout, "2", "get_shard_known", 16, duration)
            self.pyclient(layout, "2", "get_shard_known", 16, 1, duration)
            self.weather(layout, "2", 16, 1, duration)
            self.pyclient(layout, "2", "get_shard_known", 16, args.pipeline, duration)
            self.weather(layout, "2", 16, args.pipeline, duration)
            # (2)'s floor: the same 16 pipelined clients sending ping (no database)
            self.weather(layout, "floor-ping16", 16, args.pipeline, args.floor_duration, op="ping")
            # (3)-(6) one client each
            for case, workload in (("3", "get_any_shard"), ("4", "query_one_shard"), ("5", "query_top10"),
                                   ("6", "aggregate_avg")):
                self.peer(layout, case, workload, 1, duration)
                self.pyclient(layout, case, workload, 1, 1, duration)
            self.direct(layout, "direct")
            # (7) last: it adds rows
            self.pyclient(layout, "7", "insert", 1, 1, count=args.insert_count, extra=["--batch", str(args.insert_batch)])
            self.peer(layout, "7", "insert", 1, count=args.insert_count, extra=["--batch", str(args.insert_batch)])
            self.seed_insert(layout, "7")
            self.direct(layout, "direct", ["--insert", str(args.insert_count), "--batch", str(args.insert_batch)])
            status = layout.daemon.status()
            info["rss_end_kib"], info["hwm_end_kib"] = status.get("VmRSS"), status.get("VmHWM")
            layout.daemon.stop()
            section["layouts"][name] = info
        log("== the floor: storebench (libsqlite3)")
        section["storebench"] = self.storebench(("sqlite",)) + store_pg
        section["postgres_version"] = self.pg.version()
        self.pg.stop()
        return self.finished(section, began)

    def finished(self, section, began):
        """A step's section with its records, times, build and load."""
        section["records"] = self.records
        section["finished"] = now_iso()
        section["seconds"] = round(time.monotonic() - began, 1)
        section["build"] = self.build_info
        section["loadavg"] = os.getloadavg()
        return section

    def step_commits(self):
        """Commits in both modes: one row on each of 2 shards, and on 1 shard; 1 and 8 clients."""
        args = self.args
        duration = args.commit_duration
        self.pg.start()
        section = {"started": now_iso(), "settings": {"duration_s": duration, "rounds": args.commit_rounds}, "layouts": {}}
        began = time.monotonic()
        fsync_dir = os.path.join(self.workdir, "fsync-floor")
        os.makedirs(fsync_dir, exist_ok=True)
        out = self.procs.run([sys.executable, COMMITS, "--fsync-floor", fsync_dir, "--duration", "3"], timeout=120)
        record = last_json_line(out)
        record.update({"case": "floor-fsync", "layout": "machine"})
        self.records.append(record)
        log("  fsync floor (state_dir's disk): p50 %s us" % record["p50_us"])
        modes = ("best_effort", "two_phase")
        for base in ("sqlite4", "mixed"):
            # Both modes' daemons run side by side and take turns (commits.py --rounds), so that
            # both see the same disk.
            layouts = [self.layout(base, commit=commit) for commit in modes]
            log("== commits on %s, %s against %s, interleaved" % (layouts[0].title, modes[0], modes[1]))
            for layout in layouts:
                layout.write_config()
                layout.clear()
                layout.daemon.start()
            for kind in ("cross", "single"):
                for clients in (1, 8):
                    command = [sys.executable, COMMITS, "--kind", kind, "--clients", str(clients),
                               "--duration", str(duration), "--rounds", str(args.commit_rounds)]
                    for layout in layouts:
                        command += ["--socket", layout.socket]
                    self.commit_point(base, modes, kind, clients, command, timeout=duration * 6 + 300)
            for commit, layout in zip(modes, layouts):
                layout.daemon.stop()
                section["layouts"][layout.name] = {"title": layout.title, "commit": commit}
        self.pg.stop()
        return self.finished(section, began)

    def commit_point(self, base, modes, kind, clients, command, timeout):
        """One interleaved run of commits.py: a record per mode, in the order of its sockets."""
        bases = [{"layout": base, "case": "commit", "system": "shardd-commits", "commit": commit,
                  "workload": "commit_" + kind, "clients": clients, "pipeline": 1, "shards": 4} for commit in modes]
        try:
            out = self.procs.run(command, timeout=timeout)
            lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            if len(lines) != len(modes):
                raise Failure("commits.py printed %d results for %d daemons" % (len(lines), len(modes)))
            for record_base, line in zip(bases, lines):
                record = dict(line)
                record.update(record_base)
                self.records.append(record)
                log("  %-58s %s  p50 %s us  p99 %s us" % ("%s %s commit_%s c=%d" % (base, record["commit"], kind, clients),
                                                        fmt_rate(record.get("per_second")), record["p50_us"], record["p99_us"]))
        except (Failure, ValueError) as error:
            for record_base in bases:
                self.records.append(dict(record_base, error=str(error)[:600]))
            log("  %s commit_%s c=%d FAILED: %s" % (base, kind, clients, error))

    def step_moves(self):
        """Issue 16: Asia (a quarter of the reports) moved asia to europe (SQLite to SQLite) and
        asia to pg (SQLite to PostgreSQL), each idle and under `weather load`, and back."""
        args = self.args
        self.pg.start()
        section = {"started": now_iso(), "settings": {"load_clients": MOVE_LOAD_CLIENTS, "load_mix": MOVE_LOAD_MIX,
                                                      "baseline_s": MOVE_BASELINE_S}, "layouts": {}}
        began = time.monotonic()
        layout = self.layout("moves")
        log("== moves on %s" % layout.title)
        layout.prepare(args.reseed)
        section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version}
        for target in ("europe", "pg"):
            idle = self.move_point(layout, "asia", target, load=False)
            self.move_point(layout, target, "asia", load=False)
            window = max(5.0, (idle.get("seconds") or 30) * 1.5)
            self.move_point(layout, "asia", target, load=True, window=window)
            self.move_point(layout, target, "asia", load=False)
        layout.daemon.stop()
        self.pg.stop()
        return self.finished(section, began)

    def weather_load(self, layout, seconds):
        return [self.bin("weather"), "load", "--socket", layout.socket, "--clients", str(MOVE_LOAD_CLIENTS),
                "--mix", MOVE_LOAD_MIX, "--duration", "%.1f" % seconds, "--json"]

    @staticmethod
    def load_figures(out):
        report_ = last_json_line(out)
        latency = report_.get("latency_us") or {}
        return {"per_second": report_.get("throughput_per_s"), "p50_us": latency.get("p50"), "p99_us": latency.get("p99"),
                "max_us": latency.get("max"), "errors": report_.get("errors")}

    def move_point(self, layout, source, target, load, window=None):
        """One move of Asia from `source` to `target`; with `load`, weather load runs before it
        (the baseline) and through it. The record has the job's rows, seconds, rows/s and the
        switch's pause, and the load's figures before and during."""
        record = {"layout": layout.name, "case": "move", "system": "shardd-move", "from": source, "to": target,
                  "load": load, "workload": "move_asia", "clients": MOVE_LOAD_CLIENTS if load else 0, "pipeline": 1}
        what = "move Asia %s -> %s%s" % (source, target, " under load" if load else "")
        try:
            background = None
            if load:
                record["before"] = self.load_figures(self.procs.run(self.weather_load(layout, MOVE_BASELINE_S), timeout=300))
                log_path = os.path.join(self.workdir, "logs", "move-load-%s.json" % target)
                background = subprocess.Popen(self.weather_load(layout, window + 3), stdout=open(log_path, "w"),
                                              stderr=subprocess.DEVNULL)
                time.sleep(2)
            started = time.monotonic()
            job = call(layout.socket, [{"op": "move", "model": "WeatherLocation", "value": "Asia", "to": target}])[0]["job"]
            while True:
                answer = call(layout.socket, [{"op": "jobs", "job": job}])[0]["jobs"][0]
                if answer["state"] != "running":
                    break
                time.sleep(0.05)
            record["wall_seconds"] = round(time.monotonic() - started, 2)
            if answer["state"] != "done":
                raise Failure("the job %s: %s" % (answer["state"], answer.get("error")))
            first = datetime.datetime.fromisoformat(answer["started_at"].replace("Z", "+00:00"))
            last = datetime.datetime.fromisoformat(answer["finished_at"].replace("Z", "+00:00"))
            seconds = (last - first).total_seconds()
            record.update({"rows": answer["rows_copied"], "seconds": round(seconds, 3),
                           "per_second": round(answer["rows_copied"] / seconds, 1) if seconds > 0 else None,
                           "pause_ms": answer["steps"][0].get("pause_ms"), "rekeyed": len(answer.get("rekeyed") or [])})
            if background is not None:
                background.wait(timeout=window + 120)
                with open(log_path) as handle:
                    record["during"] = self.load_figures(handle.read())
            detail = "%s rows in %.1f s (%s rows/s), pause %s ms" % (record["rows"], seconds, fmt_rate(record["per_second"]),
                                                                    record["pause_ms"])
            if load:
                detail += "; load %s -> %s ops/s, p99 %s -> %s us, max %s us" % (
                    record["before"]["per_second"], record["during"]["per_second"], record["before"]["p99_us"],
                    record["during"]["p99_us"], record["during"]["max_us"])
            log("  %-40s %s" % (what, detail))
        except (Failure, OSError, subprocess.TimeoutExpired, KeyError, ValueError) as error:
            record["error"] = str(error)[:600]
            log("  %-40s FAILED: %s" % (what, error))
        self.records.append(record)
        return record

    def step_pyclient(self):
        """Issue 20: the get loop of (1) (1 client, closed loop, fresh gets with the shard
        known) through the shardd package, by model name and by declared class, and without
        a timeout, against shardd_client.py's hand-written client: scripts/bench/getloop.py,
        the variants in turns."""
        args = self.args
        rounds, duration = args.getloop_rounds, args.getloop_duration
        section = {"started": now_iso(), "settings": {
            "rounds": rounds, "duration_s": duration, "locations": PYCLIENT_LOCATIONS,
            "reports_per_location": PYCLIENT_REPORTS_PER_LOCATION}, "layouts": {}}
        began = time.monotonic()
        layout = self.layout("pyclient")
        log("== the Python client's get loop on %s: the shardd package against the hand-written client" % layout.title)
        layout.prepare(args.reseed)
        section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version,
                                           "seed_meta": layout.cache_meta()}
        command = [sys.executable, GETLOOP, "--socket", layout.socket, "--rounds", str(rounds), "--duration", str(duration)]
        try:
            out = self.procs.run(command, timeout=int(rounds * 4 * (duration + 30) + 120))
            lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            section["runs"] = [line for line in lines if "variant" in line]
            section["summary"] = lines[-1]["summary"]
            for variant, figures in section["summary"].items():
                log("  %-58s %s  p50 %s us  CPU %s us/get" % ("get loop, %s" % figures["title"], fmt_rate(figures["per_second"]),
                                                            figures["p50_us"], figures["cpu_us_per_call"]))
        except (Failure, ValueError, KeyError, IndexError) as error:
            section["error"] = str(error)[:2000]
            log("  get loop FAILED: %s" % error)
        layout.daemon.stop()
        return self.finished(section, began)

    def step_floor(self):
        """Issue 19's floors, side by side in one sitting on 4 SQLite shards of 5,000 reports:
        targets 1 and 2 (floor.py: a Python echo server, ping, gets, one client loop), 5
        (floor.py's top-10 and group-by through shardd against direct.py's every shard at
        once plus a ping) and 3 (daemon CPU per get, 16 clients x 16 deep, /proc/PID/stat)."""
        args = self.args
        rounds, duration = args.floor_rounds, args.floor_loop_duration
        section = {"started": now_iso(), "settings": {"rounds": rounds, "duration_s": duration,
                                                      "reports_per_shard": FLOOR_REPORTS_PER_SHARD}, "layouts": {}}
        began = time.monotonic()
        layout = self.layout("floor")
        log("== issue 19's floors on %s" % layout.title)
        layout.prepare(args.reseed)
        section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version}
        try:
            out = self.procs.run([sys.executable, FLOOR, "--socket", layout.socket, "--rounds", str(rounds),
                                  "--duration", str(duration), "--lineecho", self.bin("lineecho")],
                                 timeout=int(rounds * 9 * (duration + 30) + 120))
            lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            section["runs"] = [line for line in lines if "target" in line]
            section["summary"] = lines[-1]["summary"]
            for target, figures in section["summary"].items():
                log("  %-58s p50 %s us  p99 %s us" % (figures["title"], figures["p50_us"], figures["p99_us"]))
        except (Failure, ValueError, KeyError, IndexError) as error:
            section["error"] = str(error)[:2000]
            log("  floor.py FAILED: %s" % error)
        self.direct(layout, "floor")
        section["direct"] = [r for r in self.records if r.get("system") == "direct" and "error" not in r]
        # Target 2's floor: a point select in C, through the shard's inline path, and the
        # same after the thread was idle 60 µs (as between one client's requests).
        section["store"] = []
        floor_db = os.path.join(self.workdir, "floor-store.db")
        try:
            out = self.procs.run([self.bin("storebench"), "--url", "sqlite:" + floor_db, "--rows", "5000",
                                  "--selects", "20000"], timeout=300)
            section["store"] = [json.loads(line) for line in out.strip().splitlines() if line.startswith("{")]
            for record in section["store"]:
                log("    storebench %-32s %s" % (record["workload"], fmt_rate(record["per_second"])))
        except (Failure, ValueError) as error:
            log("  storebench FAILED: %s" % error)
        # Target 3: the daemon's CPU per request under the pipelined load, gets and pings.
        section["pipelined"] = {}
        for op in ("get", "ping"):
            before = process_cpu_seconds(layout.daemon.pid)
            record = self.weather(layout, "floor-cpu", 16, args.pipeline, args.floor_cpu_duration, op=op)
            cpu = process_cpu_seconds(layout.daemon.pid) - before
            if "error" not in record and record.get("count"):
                record["daemon_cpu_us_per_request"] = round(cpu * 1e6 / record["count"], 2)
                log("    daemon CPU per %s: %.1f us" % (op, record["daemon_cpu_us_per_request"]))
            section["pipelined"][op] = record
        layout.daemon.stop()
        return self.finished(section, began)

    def step_pages(self):
        """Issue 18: pages 1, 100 and 1,000 of 20 rows over 4 SQLite shards by offset and by
        cursor, then gets by key and single-row writes with no subscriber, one of every Report
        change, one whose where makes updates read the row first, and one that never reads."""
        args = self.args
        section = {"started": now_iso(), "settings": {
            "reports_per_shard": args.pages_reports_per_shard, "order_by": PAGES_ORDER, "page_size": PAGES_SIZE,
            "pages": list(PAGES_DEPTHS), "rounds": args.pages_rounds, "per_round": args.pages_per_round,
            "feed_rounds": args.feed_rounds, "feed_slice_s": args.feed_slice, "feed_ops": list(FEED_OPS),
            "subscribers": {name: where for name, where in FEED_SUBSCRIBERS}}, "layouts": {}}
        began = time.monotonic()
        layout = self.layout("pages")
        log("== pages and the change feed on %s (%d reports per shard)" % (layout.title, args.pages_reports_per_shard))
        layout.prepare(args.reseed)
        section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version,
                                           "seed_meta": layout.cache_meta()}
        try:
            per_shard = call(layout.socket, [{"op": "count", "model": "Report"}], timeout=120)[0]["per_shard"]
            section["reports_per_shard_found"] = per_shard
            if sorted(per_shard.values()) != [args.pages_reports_per_shard] * len(WEATHER_SHARDS):
                raise Failure("the pages layout has %s reports per shard, not %d each" % (per_shard, args.pages_reports_per_shard))
            section["deep"] = self.pages_deep(layout)
        except Failure as error:
            section["deep"] = {"error": str(error)[:2000]}
            log("  deep pages FAILED: %s" % error)
        self.pages_alive(layout)
        try:
            section["feed"] = self.pages_feed(layout)
        except Failure as error:
            section["feed"] = {"error": str(error)[:2000]}
            log("  change feed FAILED: %s" % error)
        self.pages_alive(layout)
        layout.daemon.stop()
        return self.finished(section, began)

    @staticmethod
    def pages_alive(layout):
        process = layout.daemon.process
        if process is not None and process.poll() is not None:
            raise Failure("shardd exited with %s during the pages step: %s"
                          % (process.returncode, tail(open(layout.log, errors="replace").read(), 20)))

    def pages_deep(self, layout):
        """The cursors of pages 1, 100 and 1,000 found by walking every page with next; both
        ways of each page checked to give the same rows; then each of the six requests timed
        in turns (rounds x per_round samples each), expunge_all before every timed request."""
        args = self.args
        base = {"op": "query", "model": "Report", "order_by": PAGES_ORDER}

        def by_offset(page):
            return dict(base, limit=PAGES_SIZE, offset=(page - 1) * PAGES_SIZE)

        def by_cursor(page):
            request = dict(base, page_size=PAGES_SIZE)
            if cursors[page] is not None:
                request["after"] = cursors[page]
            return request

        conn = pages_connect(layout.socket)
        try:
            # The walk: every page from 1 to the deepest, one request each, its cursor kept.
            cursors, keys = {}, {}
            after, started = None, time.monotonic()
            for page in range(1, max(PAGES_DEPTHS) + 1):
                request = dict(base, page_size=PAGES_SIZE)
                if after is not None:
                    request["after"] = after
                answer = pages_call(conn, request)
                if len(answer["objects"]) != PAGES_SIZE or not answer.get("next"):
                    raise Failure("page %d by cursor answered %d objects and next %r to %s"
                                  % (page, len(answer["objects"]), answer.get("next"), json.dumps(request)))
                if page in PAGES_DEPTHS:
                    cursors[page] = after
                    keys[page] = [o["key"] for o in answer["objects"]]
                after = answer["next"]
            walk_s = time.monotonic() - started
            pages_call(conn, {"op": "expunge_all"})
            log("  walked pages 1..%d by cursor in %.1f s (%.2f ms a page)"
                % (max(PAGES_DEPTHS), walk_s, walk_s * 1000 / max(PAGES_DEPTHS)))
            # The same rows both ways?
            agree = {}
            for page in PAGES_DEPTHS:
                offset_keys = [o["key"] for o in pages_call(conn, by_offset(page))["objects"]]
                again = [o["key"] for o in pages_call(conn, by_cursor(page))["objects"]]
                agree[page] = offset_keys == keys[page] == again
                if not agree[page]:
                    log("  page %d: offset and cursor answer different rows: %s against %s"
                        % (page, offset_keys[:3], keys[page][:3]))
            pages_call(conn, {"op": "expunge_all"})
            points = [(method, page) for method in ("offset", "cursor") for page in PAGES_DEPTHS]
            makers = {"offset": by_offset, "cursor": by_cursor}
            samples = {point: [] for point in points}
            for method, page in points:  # warm-up, not timed
                for _ in range(2):
                    pages_call(conn, {"op": "expunge_all"})
                    pages_call(conn, makers[method](page))
            for round_index in range(args.pages_rounds):
                turn = points[round_index % len(points):] + points[:round_index % len(points)]
                for method, page in turn:
                    request = makers[method](page)
                    for _ in range(args.pages_per_round):
                        pages_call(conn, {"op": "expunge_all"})
                        t0 = time.perf_counter_ns()
                        pages_call(conn, request)
                        samples[(method, page)].append(time.perf_counter_ns() - t0)
        finally:
            conn.close()
        records = []
        for method, page in points:
            figures = latency_figures(samples[(method, page)])
            record = dict(figures, layout=layout.name, case="page", system="shardd-python", workload="query_page",
                          method=method, page=page, clients=1, pipeline=1, shards=len(layout.shards),
                          rows_agree=agree[page])
            records.append(record)
            self.records.append(record)
            log("  page %4d by %-6s  p50 %8.0f us  p90 %8.0f us  p99 %8.0f us  (%d samples)"
                % (page, method, figures["p50_us"], figures["p90_us"], figures["p99_us"], figures["count"]))
        return {"walk_seconds": round(walk_s, 2), "walk_pages": max(PAGES_DEPTHS),
                "rows_agree": {str(page): ok for page, ok in agree.items()}}

    def pages_feed(self, layout):
        """Workload (1), `get` of one Report by key with the shard known (fresh: true), then
        single-row add + commit and update by key + commit, from one writer session, in turns
        of feed_slice seconds, with each subscriber case: none; a subscriber of every Report
        change and one with the hot where, both one session of another process whose thread
        reads its events as they come (after each slice the harness waits, untimed, until it
        has every event); and an unread one: a session of this process that subscribes to
        Report and does not read its socket until its slice is over.

        Before every case's slice, whatever the case (so that all see the same disk), the
        writer runs an untimed prefill: update_where over id ranges of the 4 shards, in chunks
        of FEED_PREFILL_CHUNK rows, a pause after each, `prefill_events` changes in all. That
        is the fewest events an unread subscriber was sent before its `overflow` (the daemon's
        bound of waiting events plus what its socket and the lines in flight hold), counted
        FEED_CALIBRATIONS times before the turns, less FEED_UNREAD_MARGIN; the unread write
        slices run past feed_slice until they made FEED_UNREAD_EXTRA changes more than the
        most counted needs, so that the bound is passed inside them, and are timed across the
        overflow. Its gets see a nearly full outbox and a session stuck on its socket."""
        args = self.args
        context = multiprocessing_context()
        parent_end, child_end = context.Pipe()
        child = context.Process(target=pages_subscriber, args=(layout.socket, child_end), daemon=True)
        child.start()
        writer = pages_connect(layout.socket)
        rng = random.Random(SEED + 18)
        where_of = dict(FEED_SUBSCRIBERS)
        cases = [name for name, _ in FEED_SUBSCRIBERS]
        per_shard = args.pages_reports_per_shard
        try:
            status, detail = parent_end.recv() if parent_end.poll(60) else ("error", "the subscriber did not start")
            if status != "ready":
                raise Failure("the subscriber process: %s" % detail)
            # The locations, into the writer's identity map: an add of a Report finds its
            # parent's shard there (protocol.md 5).
            locations = pages_call(writer, {"op": "query", "model": "WeatherLocation", "order_by": ["id"]})["objects"]
            location_of = {o["key"][2]: o["values"]["id"] for o in locations}
            shards = [s for s in WEATHER_SHARDS if s in location_of]
            if len(shards) != len(WEATHER_SHARDS):
                raise Failure("the pages layout has locations on %s only" % sorted(location_of))
            counter = [0]

            def make(op):
                shard = shards[counter[0] % len(shards)]
                counter[0] += 1
                if op == "get":
                    return {"op": "get", "model": "Report", "pk": rng.randint(1, per_shard), "shard": shard, "fresh": True}
                temperature = round(rng.uniform(-40.0, 50.0), 2)
                if op == "add":
                    moment = benchlib.BASE_TIME + datetime.timedelta(seconds=counter[0])
                    return {"op": "add", "model": "Report", "values": {
                        "location_id": location_of[shard], "temperature": temperature,
                        "report_time": benchlib.rfc3339(moment)}}
                key = ["Report", [rng.randint(1, per_shard)], shard]
                return {"op": "update", "key": key, "values": {"temperature": temperature}}

            def subscriber(command):
                parent_end.send(command)
                if not parent_end.poll(60):
                    raise Failure("the subscriber process did not answer %r" % (command,))
                status, detail = parent_end.recv()
                if status != "ok":
                    raise Failure("the subscriber: %s" % detail)
                return detail

            window = [1]

            def prefill(events):
                """update_where of `events` seeded Reports (a multiple of the 4 shards), chunk by
                chunk, each committed, then a pause: the daemon's task of an unread session
                hands the first lines to its socket meanwhile, so no chunk alone passes its bound."""
                left = events // len(shards)
                while left > 0:
                    n = min(left, FEED_PREFILL_CHUNK // len(shards))
                    if window[0] + n - 1 > per_shard:
                        window[0] = 1
                    request = {"op": "update_where", "model": "Report", "where": ["between", "id", window[0], window[0] + n - 1],
                               "values": {"temperature": round(rng.uniform(-40.0, 50.0), 2)}}
                    answer = pages_call(writer, request)
                    if answer.get("count") != n * len(shards):
                        raise Failure("the prefill's update_where changed %s rows, not %d: %s"
                                      % (answer.get("count"), n * len(shards), json.dumps(request)))
                    pages_call(writer, {"op": "commit"})
                    window[0] += n
                    left -= n
                    time.sleep(FEED_PREFILL_PAUSE)

            # Warm-up, not timed: a second of each op; its rates size the margin.
            warm_rate = {}
            for op in FEED_OPS:
                began, n = time.monotonic(), 0
                while time.monotonic() < began + 1.0:
                    pages_call(writer, make(op))
                    if op != "get":
                        pages_call(writer, {"op": "commit"})
                    n += 1
                warm_rate[op] = n / (time.monotonic() - began)
            # The calibration: how many events an unread subscriber is sent before its overflow.
            calibration = []
            for _ in range(FEED_CALIBRATIONS):
                unread = UnreadSubscriber(layout.socket)
                try:
                    prefill(FEED_CALIBRATION_EVENTS)
                    got = unread.collect(until=FEED_CALIBRATION_EVENTS)
                finally:
                    unread.close()
                calibration.append(got)
                if not got["overflow"]:
                    raise Failure("the calibration: an unread subscriber got all %d events of %d changes and no "
                                  "overflow (%s)" % (got["events"], FEED_CALIBRATION_EVENTS, got))
            capacity = min(c["events"] for c in calibration)
            margin = FEED_UNREAD_MARGIN
            prefill_events = (capacity - margin) // len(shards) * len(shards)
            unread_writes = max(c["events"] for c in calibration) - prefill_events + FEED_UNREAD_EXTRA
            log("  warm-up: get %.0f/s, add+commit %.0f/s, update+commit %.0f/s; an unread subscriber is sent %s "
                "events before its overflow; prefill %d changes before each slice; unread write turns: at least "
                "%d writes" % (warm_rate["get"], warm_rate["add"], warm_rate["update"],
                               ", ".join(str(c["events"]) for c in calibration), prefill_events, unread_writes))
            if prefill_events <= 0:
                raise Failure("the calibration found %d events before the overflow" % capacity)

            stats = {(op, name): {"samples": [], "before": [], "after": [], "seconds": 0.0, "requests": 0, "events": 0,
                                  "drain_ms": [], "not_found": 0, "turns": [], "turn_rates": [], "daemon_cpu_s": 0.0}
                     for op in FEED_OPS for name in cases}
            for round_index in range(args.feed_rounds):
                for op in FEED_OPS:
                    shift = round_index % len(cases)
                    for name in cases[shift:] + cases[:shift]:
                        entry = stats[(op, name)]
                        unread = UnreadSubscriber(layout.socket) if name == "unread" else None
                        try:
                            prefill(prefill_events)
                            subscription = None
                            if name in ("all", "hot"):
                                subscription = subscriber(("subscribe", None if where_of[name] == "no where" else where_of[name]))
                            pages_call(writer, {"op": "expunge_all"})
                            samples, starts = [], []
                            at_least = unread_writes if name == "unread" and op != "get" else 0
                            cpu_before = process_cpu_seconds(layout.daemon.pid)
                            began = time.monotonic()
                            end = began + args.feed_slice
                            while time.monotonic() < end or len(samples) < at_least:
                                request = make(op)
                                t0 = time.perf_counter_ns()
                                answer = pages_call(writer, request)
                                if op != "get":
                                    pages_call(writer, {"op": "commit"})
                                samples.append(time.perf_counter_ns() - t0)
                                starts.append(t0)
                                if op == "get" and answer.get("object") is None:
                                    entry["not_found"] += 1
                            slice_seconds = time.monotonic() - began
                            entry["daemon_cpu_s"] += process_cpu_seconds(layout.daemon.pid) - cpu_before
                            entry["seconds"] += slice_seconds
                            entry["turn_rates"].append(round(len(samples) / slice_seconds, 1))
                            entry["requests"] += len(samples)
                            entry["samples"] += samples
                            writes = len(samples) if op != "get" else 0
                            if subscription is not None:
                                expected = writes if name == "all" else 0
                                entry["drain_ms"].append(subscriber(("drain", subscription, expected)))
                                entry["events"] += subscriber(("unsubscribe", subscription))
                            if unread is not None:
                                got = unread.collect(until=prefill_events + writes)
                                entry["events"] += got["events"]
                                turn = dict(got, requests=len(samples), prefill=prefill_events,
                                            seconds=round(slice_seconds, 2))
                                if got["overflow"] and op != "get":
                                    # The events of writes 0..k-1 came; write k passed the bound.
                                    k = got["events"] - prefill_events
                                    turn["writes_before_overflow"] = k
                                    if 0 <= k < len(samples):
                                        turn["overflow_at_s"] = round((starts[k] - starts[0]) / 1e9, 3)
                                    entry["before"] += samples[:max(0, k)]
                                    entry["after"] += samples[max(0, k):]
                                entry["turns"].append(turn)
                        finally:
                            if unread is not None:
                                unread.close()
            overflow, seq_ok = subscriber(("finish",))
        finally:
            writer.close()
            try:
                parent_end.send(("stop",))
            except OSError:
                pass
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
        result = {"overflow_events": overflow, "seq_increasing": seq_ok,
                  "warm_rate": {op: round(rate, 1) for op, rate in warm_rate.items()},
                  "unread": {"calibration": calibration, "capacity_events": capacity, "margin": margin,
                             "prefill_events": prefill_events, "prefill_chunk": FEED_PREFILL_CHUNK,
                             "unread_write_turn_min_writes": unread_writes, "unread_extra": FEED_UNREAD_EXTRA,
                             "prefill_pause_s": FEED_PREFILL_PAUSE, "calibration_changes": FEED_CALIBRATION_EVENTS,
                             "outbox_max_events": FEED_OUTBOX_EVENTS}}
        for (op, name), entry in stats.items():
            figures = latency_figures(entry["samples"])
            seconds = entry["seconds"]
            writes = entry["requests"] if op != "get" else 0
            record = dict(figures, layout=layout.name, case="feed", system="shardd-python",
                          workload="get" if op == "get" else "%s_commit" % op,
                          subscriber=name, where=where_of[name], clients=1, pipeline=1,
                          shards=len(layout.shards), seconds=round(seconds, 2), writes=writes,
                          requests=entry["requests"], prefill_events=prefill_events,
                          per_second=round(entry["requests"] / seconds, 1) if seconds else None,
                          events=entry["events"] if name != "none" else None,
                          expected_events=({"all": writes, "hot": 0}.get(name)) if name != "none" else None,
                          drain_ms_max=round(max(entry["drain_ms"]), 1) if entry["drain_ms"] else None,
                          turn_rates=entry["turn_rates"], daemon_cpu_s=round(entry["daemon_cpu_s"], 2),
                          daemon_cpu_us_per_request=(round(entry["daemon_cpu_s"] * 1e6 / entry["requests"], 1)
                                                     if entry["requests"] else None))
            if op == "get":
                record["not_found"] = entry["not_found"]
            if name == "unread":
                turns = entry["turns"]
                record.update(turns=len(turns), overflow_turns=sum(1 for t in turns if t["overflow"]),
                              unread_turns=turns, seq_increasing=all(t["seq_increasing"] for t in turns),
                              other_lines=sum(t["other_lines"] for t in turns))
                if op != "get":
                    record["expected_events"] = None
                    record["before_overflow"] = latency_figures(entry["before"])
                    record["after_overflow"] = latency_figures(entry["after"])
                    record["overflow_in_prefill_turns"] = sum(1 for t in turns if t.get("writes_before_overflow", 1) <= 0)
                    at = [t["overflow_at_s"] for t in turns if "overflow_at_s" in t]
                    record["overflow_at_s"] = {"min": min(at), "max": max(at)} if at else None
            self.records.append(record)
            if name == "unread":
                detail = "  events %d in %d turns, overflow in %d" % (record["events"], record["turns"], record["overflow_turns"])
            elif name == "none":
                detail = ""
            else:
                detail = "  events %d of %d" % (record["events"], record["expected_events"])
            log("  %-6s%s, subscriber %-6s  %s  p50 %6.0f us  p90 %6.0f us  daemon CPU %s us a request%s"
                % (op, "" if op == "get" else " + commit", name, fmt_rate(record["per_second"]), figures["p50_us"],
                   figures["p90_us"], record["daemon_cpu_us_per_request"], detail))
        if overflow:
            log("  the reading subscriber got %d overflow events" % overflow)
        return result

    def step_scaling(self):
        args = self.args
        duration = args.scale_duration
        section = {"started": now_iso(), "settings": {
            "duration_s": duration, "clients": args.clients, "shards": args.shards, "sweep_clients": args.sweep_clients,
            "pipeline": args.pipeline, "locations": args.locations,
            "reports_per_location": args.reports_per_location,
            "sweep_reports_per_location": args.sweep_reports_per_location}, "layouts": {}}
        began = time.monotonic()
        layout = self.layout("sqlite4")
        log("== scaling against clients on %s" % layout.title)
        layout.prepare(args.reseed)
        for clients in args.clients:
            self.scaling_point(layout, "clients", clients, duration)
        layout.daemon.stop()
        section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version}
        log("== scaling against shards (%d locations x %d reports)" % (args.locations, args.sweep_reports_per_location))
        clients = args.sweep_clients
        for count in args.shards:
            layout = self.layout("hash%d" % count)
            layout.prepare(args.reseed)
            self.scaling_point(layout, "shards", clients, duration)
            layout.daemon.stop()
            section["layouts"][layout.name] = {"title": layout.title, "data_version": layout.data_version}
        section["records"] = self.records
        section["plots"] = self.plot(self.records)
        section["finished"] = now_iso()
        section["seconds"] = round(time.monotonic() - began, 1)
        section["build"] = self.build_info
        section["loadavg"] = os.getloadavg()
        return section

    def plot(self, records):
        os.makedirs(OUT_DIR, exist_ok=True)
        plots = {}
        for case, prefix in (("clients", "scaling-clients-"), ("shards", "scaling-shards-")):
            rows = [r for r in records if r.get("case") == case and "error" not in r and r.get("per_second")]
            if not rows:
                continue
            path = os.path.join(self.workdir, "%s.jsonl" % case)
            with open(path, "w") as handle:
                for row in rows:
                    handle.write(json.dumps({k: row.get(k) for k in ("system", "workload", "clients", "shards",
                                                                       "per_second", "pipeline")}) + "\n")
            for old in os.listdir(OUT_DIR):
                if old.startswith(prefix) and old.endswith(".png"):
                    os.unlink(os.path.join(OUT_DIR, old))
            try:
                out = self.procs.run([VENV_PYTHON, PLOT, path, "--out", OUT_DIR, "--prefix", prefix], timeout=300)
                plots[case] = [os.path.relpath(p.strip(), ROOT) for p in out.splitlines() if p.strip().endswith(".png")]
                log("plot: %s" % ", ".join(plots[case]))
            except Failure as error:
                log("plot FAILED: %s" % error)
        return plots

    def step_memory(self):
        args = self.args
        section = {"started": now_iso(), "sessions": args.sessions, "warmup_s": args.memory_warmup}
        began = time.monotonic()
        layout = self.layout("sqlite4")
        log("== memory on %s" % layout.title)
        layout.prepare(args.reseed)
        time.sleep(2)
        section["after_start"] = layout.daemon.status()
        log("  RSS after start: %.1f MiB" % (section["after_start"]["VmRSS"] / 1024))
        self.weather(layout, "memory-warmup", 16, args.pipeline, args.memory_warmup)
        time.sleep(3)
        section["idle_after_load"] = layout.daemon.status()
        log("  RSS idle after %d s of gets: %.1f MiB" % (args.memory_warmup, section["idle_after_load"]["VmRSS"] / 1024))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = args.sessions + 256
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(wanted, soft), hard), hard))
        section["nofile_limit"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        sockets = []
        try:
            started = time.monotonic()
            answered = 0
            for index in range(args.sessions):
                s = connect_retrying(layout.socket)
                sockets.append(s)
                s.sendall(b'{"op":"hello","client":"bench-idle-%d"}\n' % index)
                buffer = b""
                while not buffer.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buffer += chunk
                if b'"ok":true' in buffer.replace(b" ", b""):
                    answered += 1
            section["sessions_answered"] = answered
            section["connect_seconds"] = round(time.monotonic() - started, 2)
            time.sleep(3)
            section["with_sessions"] = layout.daemon.status()
            try:
                section["sessions_listed"] = len(call(layout.socket, [{"op": "sessions"}])[0].get("sessions", []))
            except Failure as error:
                section["sessions_listed"] = None
                log("  sessions op: %s" % error)
            log("  RSS with %d idle sessions (%d answered hello): %.1f MiB"
                % (args.sessions, answered, section["with_sessions"]["VmRSS"] / 1024))
        finally:
            for s in sockets:
                s.close()
        time.sleep(3)
        section["after_close"] = layout.daemon.status()
        log("  RSS after closing them: %.1f MiB" % (section["after_close"]["VmRSS"] / 1024))
        layout.daemon.stop()
        section["seed_meta"] = layout.cache_meta()
        section["finished"] = now_iso()
        section["seconds"] = round(time.monotonic() - began, 1)
        section["build"] = self.build_info
        section["records"] = self.records
        return section


# --------------------------------------------------------------------------------------------
# Step pages: the Python client of scripts/peer/shardd_client.py, and the subscriber process.

def pages_connect(path):
    try:
        return shardd_client.Connection(path)
    except benchlib.BenchError as error:
        raise Failure(str(error))


def pages_call(conn, request):
    """One request and its answer; an answer without ok fails with both, exactly as sent."""
    try:
        conn.send([request])
        answer = conn.receive()
    except (benchlib.BenchError, OSError, ValueError) as error:
        raise Failure("%s after the request %s" % (error, json.dumps(request)))
    if not answer.get("ok"):
        raise Failure("shardd answered %s to the request %s" % (json.dumps(answer), json.dumps(request)))
    return answer


def latency_figures(samples_ns):
    ordered = sorted(samples_ns)
    if not ordered:
        return {"count": 0, "p50_us": None, "p90_us": None, "p99_us": None, "mean_us": None}
    def at(fraction):
        return round(benchlib.percentile(ordered, fraction) / 1000, 1)
    return {"count": len(ordered), "p50_us": at(0.5), "p90_us": at(0.9), "p99_us": at(0.99),
            "mean_us": round(sum(ordered) / len(ordered) / 1000, 1), "max_us": round(ordered[-1] / 1000, 1)}


def multiprocessing_context():
    # spawn: the harness has threads (OtherCpu), which a fork would copy mid-state.
    return multiprocessing.get_context("spawn")


def pages_subscriber(path, pipe):
    """The subscriber of step pages, in a process of its own: one session, whose thread
    reads every line as it comes. Event lines (an "event" and no "ok") are counted per
    subscription; the others are the answers to this session's requests, in order. Commands
    from the harness on `pipe`: ("subscribe", where or None) -> subscription number;
    ("drain", n, expected) -> ms waited until n had `expected` events; ("unsubscribe", n) ->
    events n got; ("finish",) -> (overflow events, whether seq increased along each
    subscription); ("stop",). Answers are ("ok", value) or ("error", text)."""
    try:
        conn = shardd_client.Connection(path)
    except Exception as error:  # noqa: BLE001 - told to the harness
        pipe.send(("error", str(error)))
        return
    conn.sock.settimeout(None)  # events come when writers commit: no timeout on reading
    answers = queue.Queue()
    lock = threading.Condition()
    counts, last_seq = {}, {}
    state = {"overflow": 0, "seq_ok": True, "closed": None}

    def drain():
        try:
            for line in conn.reader:
                message = json.loads(line)
                if "event" in message and "ok" not in message:
                    with lock:
                        number = message.get("subscription")
                        if message["event"] == "overflow":
                            state["overflow"] += 1
                        else:
                            counts[number] = counts.get(number, 0) + 1
                            seq = message.get("seq")
                            if number in last_seq and not (isinstance(seq, int) and seq > last_seq[number]):
                                state["seq_ok"] = False
                            last_seq[number] = seq
                        lock.notify_all()
                else:
                    answers.put(message)
            state["closed"] = "shardd closed the connection"
        except Exception as error:  # noqa: BLE001
            state["closed"] = "reading: %s" % error
        answers.put(None)

    def request(body):
        conn.send([body])
        try:
            answer = answers.get(timeout=60)
        except queue.Empty:
            raise RuntimeError("no answer within 60 s to %s" % json.dumps(body))
        if answer is None:
            raise RuntimeError("%s before the answer to %s" % (state["closed"], json.dumps(body)))
        if not answer.get("ok"):
            raise RuntimeError("shardd answered %s to the request %s" % (json.dumps(answer), json.dumps(body)))
        return answer

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    pipe.send(("ready", None))
    while True:
        try:
            command = pipe.recv()
        except EOFError:
            break
        if command[0] == "stop":
            break
        try:
            if command[0] == "subscribe":
                body = {"op": "subscribe", "model": "Report"}
                if command[1] is not None:
                    body["where"] = command[1]
                pipe.send(("ok", request(body)["subscription"]))
            elif command[0] == "drain":
                _, number, expected = command
                started = time.monotonic()
                with lock:
                    lock.wait_for(lambda: counts.get(number, 0) >= expected, timeout=30)
                pipe.send(("ok", round((time.monotonic() - started) * 1000, 1)))
            elif command[0] == "unsubscribe":
                request({"op": "unsubscribe", "subscription": command[1]})
                with lock:
                    pipe.send(("ok", counts.get(command[1], 0)))
            elif command[0] == "finish":
                with lock:
                    pipe.send(("ok", (state["overflow"], state["seq_ok"])))
            else:
                pipe.send(("error", "unknown command %r" % (command,)))
        except Exception as error:  # noqa: BLE001 - told to the harness
            pipe.send(("error", str(error)))
    conn.close()


class UnreadSubscriber:
    """The unread subscriber of step pages: a session of the harness's process that sends
    `subscribe` Report (no where), reads its answer, and then reads nothing until collect():
    the daemon's outbox for it fills and, past its bound, the daemon sends `{"event":
    "overflow", "subscription": n}` and ends the subscription (protocol.md 12)."""

    def __init__(self, path):
        self.sock = connect_retrying(path)
        self.buffer = b""
        try:
            self.sock.sendall(b'{"op":"subscribe","model":"Report"}\n')
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise Failure("shardd closed the unread subscriber's connection before the answer to subscribe")
                self.buffer += chunk
            line, _, self.buffer = self.buffer.partition(b"\n")
            answer = json.loads(line)
        except (OSError, ValueError) as error:
            self.sock.close()
            raise Failure("the unread subscriber's subscribe: %s" % error)
        if not answer.get("ok"):
            self.sock.close()
            raise Failure("shardd answered %s to the unread subscriber's subscribe" % json.dumps(answer))
        self.subscription = answer["subscription"]

    def collect(self, until, quiet=0.5, give_up=15.0):
        """Reads what the daemon kept for this session: event lines up to the overflow line;
        without one, until `until` events came and `quiet` s passed with nothing more (or
        `give_up` s with nothing at all). {"events", "overflow", "seq_increasing",
        "other_lines", "read_ms", "end"}."""
        events, overflow, other, seq_ok, last = 0, False, 0, True, None
        started = time.monotonic()
        end = "overflow"
        data, self.buffer = self.buffer, b""
        while True:
            lines = data.split(b"\n")
            data = lines.pop()
            for line in lines:
                message = json.loads(line)
                if "ok" in message or "event" not in message:
                    other += 1
                elif message["event"] == "overflow" and message.get("subscription") == self.subscription:
                    overflow = True
                else:
                    events += 1
                    seq = message.get("seq")
                    if last is not None and not (isinstance(seq, int) and seq > last):
                        seq_ok = False
                    last = seq
            if overflow:
                break
            self.sock.settimeout(quiet if events >= until else give_up)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                end = "quiet" if events >= until else "nothing for %.0f s" % give_up
                break
            if not chunk:
                end = "closed"
                break
            data += chunk
        return {"events": events, "overflow": overflow, "seq_increasing": seq_ok, "other_lines": other,
                "read_ms": round((time.monotonic() - started) * 1000, 1), "end": end}

    def close(self):
        self.sock.close()


def connect_retrying(path, attempts=200):
    """A Unix-socket connect that waits while the listen backlog is full (EAGAIN)."""
    for attempt in range(attempts):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(30)
            return s
        except (BlockingIOError, ConnectionRefusedError):
            s.close()
            time.sleep(0.01 * (attempt + 1))
    raise Failure("cannot connect to %s: the listen backlog stays full" % path)


def python_result(out):
    line = last_json_line(out)
    result = {k: line.get(k) for k in ("per_second", "p50_us", "p99_us", "count", "seconds", "answer", "operations",
                                        "mean_us", "shards_asked", "add_p50_us", "txids") if k in line}
    return result


def weather_result(out, op="get"):
    doc = json.loads(out)
    stats = doc["ops"][op]
    result = {"per_second": stats["throughput_per_s"], "p50_us": stats["latency_us"]["p50"],
              "p99_us": stats["latency_us"]["p99"], "count": stats["count"], "seconds": doc["duration_s"]}
    if doc.get("errors"):
        result["errors"] = doc["errors"]
    return result


def git(*args):
    try:
        return subprocess.run(["git"] + list(args), cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def first_line(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def machine():
    info = {"cores": os.cpu_count(), "kernel": os.uname().release, "arch": os.uname().machine}
    try:
        with open("/proc/meminfo") as handle:
            info["memory_gib"] = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    info["swift"] = first_line(["swift", "--version"])
    info["sqlite"] = first_line(["pkg-config", "--modversion", "sqlite3"])
    info["libpq"] = first_line(["pkg-config", "--modversion", "libpq"])
    info["postgres"] = first_line(["pg_config", "--version"])
    info["python"] = sys.version.split()[0]
    if os.path.exists(VENV_PYTHON):
        info["sqlalchemy"] = first_line([VENV_PYTHON, "-c", "import sqlalchemy, psycopg2; "
                                         "print('SQLAlchemy', sqlalchemy.__version__, '/ psycopg2', "
                                         "psycopg2.__version__.split()[0])"])
    return info


def load_results():
    # A fresh clone has no .bench-data yet: start from the committed copy of the last figures,
    # so that one step run alone replaces its own figures and keeps the others in BENCHMARKS.md.
    for path in (RESULTS, os.path.join(OUT_DIR, "results.json")):
        try:
            with open(path) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            continue
    return {}


def save_results(results):
    os.makedirs(DATA_DIR, exist_ok=True)
    partial = RESULTS + ".partial"
    with open(partial, "w") as handle:
        json.dump(results, handle, indent=1)
    os.replace(partial, RESULTS)
    os.makedirs(OUT_DIR, exist_ok=True)
    shutil.copyfile(RESULTS, os.path.join(OUT_DIR, "results.json"))


def write_report(results):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as handle:
        current = handle.read()
    generated = report.render(results)
    begin, end = report.BEGIN, report.END
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        _, tail_text = rest.split(end, 1)
        text = head + begin + "\n" + generated + end + tail_text
    else:
        # First time: after the title and intro, before the store section.
        marker = "## The store"
        index = current.find(marker)
        block = begin + "\n" + generated + end + "\n\n"
        text = current[:index] + block + current[index:] if index >= 0 else current + "\n" + block
    with open(path, "w") as handle:
        handle.write(text)
    log("BENCHMARKS.md written")


def parse_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench.sh", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", default="all", choices=["all", "quick", "floor", "workloads", "commits", "scaling",
                                                              "memory", "moves", "pages", "pyclient", "report"])
    parser.add_argument("--duration", type=float, default=10, help="seconds per workload point (default 10)")
    parser.add_argument("--floor-duration", type=float, default=5, help="seconds per floor point (default 5)")
    parser.add_argument("--scale-duration", type=float, default=5, help="seconds per scaling point (default 5)")
    parser.add_argument("--memory-warmup", type=int, default=5, help="seconds of gets before the idle RSS (default 5)")
    parser.add_argument("--commit-duration", type=float, default=5,
                        help="seconds per commit point and mode (default 5)")
    parser.add_argument("--commit-rounds", type=int, default=10,
                        help="turns the two modes' daemons take within a commit point (default 10)")
    parser.add_argument("--pipeline", type=int, default=16, help="depth of the pipelined runs (default 16)")
    parser.add_argument("--clients", type=parse_list, default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--shards", type=parse_list, default=[1, 2, 4, 8, 16])
    parser.add_argument("--sweep-clients", type=int, default=16, help="clients of the shard sweep (default 16)")
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--reports-per-location", type=int, default=1000)
    parser.add_argument("--sweep-reports-per-location", type=int, default=100,
                        help="the shard sweep's smaller data set (default 100: 100,000 reports)")
    parser.add_argument("--insert-count", type=int, default=100_000)
    parser.add_argument("--insert-batch", type=int, default=5000,
                        help="(7): rows per add + commit, for every system (default 5000: a request "
                             "line of about 0.5 MB; max_line_bytes is 1 MiB)")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--store-rows-sqlite", type=int, default=100_000)
    parser.add_argument("--store-rows-pg", type=int, default=20_000)
    parser.add_argument("--pages-reports-per-shard", type=int, default=20_000,
                        help="pages: reports on each of the 4 shards (default 20,000)")
    parser.add_argument("--pages-rounds", type=int, default=10,
                        help="pages: turns taken by the six page requests (default 10)")
    parser.add_argument("--pages-per-round", type=int, default=20,
                        help="pages: timed requests of each page per turn (default 20)")
    parser.add_argument("--feed-rounds", type=int, default=10,
                        help="pages: turns taken by the subscriber cases of get, add and update (default 10)")
    parser.add_argument("--feed-slice", type=float, default=1.0,
                        help="pages: seconds of gets or writes per case and turn (default 1)")
    parser.add_argument("--getloop-rounds", type=int, default=4,
                        help="pyclient: turns the get-loop variants take (default 4)")
    parser.add_argument("--getloop-duration", type=float, default=2.5,
                        help="pyclient: timed seconds per variant and turn (default 2.5)")
    parser.add_argument("--floor-rounds", type=int, default=6,
                        help="floor: turns the round-trip targets take (default 6)")
    parser.add_argument("--floor-loop-duration", type=float, default=2.0,
                        help="floor: timed seconds per target and turn (default 2)")
    parser.add_argument("--floor-cpu-duration", type=float, default=5.0,
                        help="floor: seconds of the pipelined load whose daemon CPU is measured (default 5)")
    parser.add_argument("--reseed", action="store_true", help="seed anew even when cached data exists")
    parser.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    parser.add_argument("--build-retries", type=int, default=10)
    parser.add_argument("--build-wait", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="short points (2 s) to try the harness")
    args = parser.parse_args()
    if args.step == "quick":
        # About 2 minutes with the build done: issue 19's targets 1, 2, 5 (and 3) and commits.
        args.floor_rounds, args.floor_loop_duration, args.floor_cpu_duration = 3, 1.5, 3
        args.floor_duration = 2
        args.commit_duration, args.commit_rounds = 2, 4
    if args.quick:
        args.duration = args.floor_duration = args.scale_duration = args.commit_duration = 2
        args.memory_warmup = 2
        args.pages_rounds, args.pages_per_round, args.feed_rounds, args.feed_slice = 2, 5, 2, 0.5
        args.getloop_rounds, args.getloop_duration = 2, 1

    def on_signal(number, _frame):
        raise SystemExit(128 + number)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    # quick is for before/after comparisons: its short figures never replace the full run's.
    results = {} if args.step == "quick" else load_results()
    if args.step == "report":
        write_report(results)
        return
    bench = Bench(args)
    began = time.monotonic()
    run_info = {"command": "scripts/bench.sh " + " ".join(sys.argv[1:]) if len(sys.argv) > 1 else "scripts/bench.sh",
                "started": now_iso(), "loadavg_start": os.getloadavg(), "busy_before": machine_busy()}
    steps = (["workloads", "floor", "pyclient", "commits", "scaling", "memory", "moves", "pages"] if args.step == "all"
             else ["floor", "commits"] if args.step == "quick" else [args.step])
    failed = None
    try:
        bench.build()
        if set(steps) & {"workloads", "scaling"}:  # the peer, the direct floor and the plots
            bench.venv()
        # The machine line of BENCHMARKS.md describes the workloads' run; each step also keeps
        # its own (a step run alone may meet another host of the farm).
        here = machine()
        if "workloads" in steps or "machine" not in results:
            results["machine"] = here
        for step in steps:
            bench.records = []
            step_began = time.monotonic()
            others = OtherCpu()
            ticks = cpu_ticks()
            try:
                section = getattr(bench, "step_" + step)()
                section["machine"] = here
                section["other_processes"] = others.stop()
                section["steal_share"] = steal_share(ticks)
            except Failure as error:
                others.stop()
                failed = "%s: %s" % (step, error)
                log("step %s FAILED: %s" % (step, error))
                for layout in bench.layouts:
                    layout.daemon.stop()
                bench.pg.stop()
                continue
            section["command"] = run_info["command"]
            results[step] = section
            if args.step != "quick":
                save_results(results)
            log("step %s done in %.1f min" % (step, (time.monotonic() - step_began) / 60))
    finally:
        bench.cleanup()
    run_info["seconds"] = round(time.monotonic() - began, 1)
    run_info["steps"] = steps
    run_info["failed"] = failed
    results["last_run"] = run_info
    if args.step == "all":
        results["all_run"] = run_info
    if args.step == "quick":
        path = os.path.join(DATA_DIR, "quick-%s.json" % time.strftime("%Y%m%dT%H%M%S"))
        os.makedirs(DATA_DIR, exist_ok=True)
        with open(path, "w") as handle:
            json.dump(results, handle, indent=1)
        print("\n".join(report.round_trip_section(results) + report.commits_section(results)), flush=True)
        log("quick: figures in %s (BENCHMARKS.md unchanged)" % path)
    else:
        save_results(results)
        write_report(results)
    log("done in %.1f min%s" % (run_info["seconds"] / 60, "; FAILED: " + failed if failed else ""))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except Failure as error:
        log("bench: %s" % error)
        sys.exit(1)
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
