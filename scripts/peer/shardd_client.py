#!/usr/bin/env python3
"""The benchmark workloads run through shardd's Python client (package `shardd` of clients/python).

Standard library only. One connection is one shardd session; each client of a run is one
process with one `shardd.Session`, in a closed loop (call, wait for the answer, call the
next), or with --pipeline D: one `shardd.aio` session per client, D gets gathered at once.
--raw runs the same workloads on this file's own hand-written line client (`Connection`:
socket, json) instead, as the benchmark did before the package existed.

    python3 scripts/peer/shardd_client.py --socket shardd.sock --workload get_shard_known --duration 5
    python3 scripts/peer/shardd_client.py --socket shardd.sock --workload get_shard_known --duration 5 --raw
    python3 scripts/peer/shardd_client.py --socket shardd.sock --workload insert --count 100000
    python3 scripts/peer/shardd_client.py --socket shardd.sock --seed-locations 1000 --seed-reports 100000

Prints one JSON line: {"system": "shardd-python", "workload", "count", "seconds",
"per_second", "p50_us", "p99_us", "answer", "clients", "shards", "pipeline", ...}.

Same workloads, keys and rows as sqlalchemy_peer.py (see benchlib.py). Decisions:
- the package is imported from clients/python of this tree (sys.path), so the bench needs no
  pip install and measures the client as it is in the tree;
- models are named by their shards.conf names ("Report"), or with --declared-model by the
  declared classes below (typed attributes, report_time a datetime);
- sessions have a 60 s timeout per answer (as the hand-written client has): a stuck daemon
  fails the run instead of hanging it;
- gets send "fresh": true (the daemon bypasses the session's identity map and reads the
  shard), because the peer opens a fresh Session per operation and so always reads the
  database; --identity-map lets the daemon answer repeated keys from the map instead;
- with --pipeline D, one latency sample is one group: from sending its D requests to reading
  the last of their answers ("operations" in the output counts samples, "count" requests);
- an error stops the run with its code and message, except a get's ambiguous_identity
  (shardd.AmbiguousIdentity), which is counted in the answer (as the peer counts
  MultipleResultsFound).
"""
import asyncio
import json
import os
import socket
import sys
from datetime import datetime
from typing import Optional

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts (nor in clients/python)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "clients", "python"))
import benchlib  # noqa: E402
from benchlib import BenchError  # noqa: E402
import shardd  # noqa: E402  (clients/python of this tree)
import shardd.aio  # noqa: E402

SYSTEM = "shardd-python"


class ProtocolError(BenchError):
    def __init__(self, request, error):
        self.code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        super().__init__("shardd answered %s to %s: %s" % (self.code, request.get("op"), message))


# --------------------------------------------------------------------------------------------
# --raw: the hand-written line client and its workloads.

class Connection:
    """One session: a Unix socket with line framing. Requests are dicts; answers are dicts
    with "ok": true, or ProtocolError is raised."""

    def __init__(self, path, timeout=60.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as error:
            self.sock.close()
            raise BenchError("cannot connect to the shardd socket %s: %s (is the daemon running?)"
                             % (path, error.strerror or error))
        self.reader = self.sock.makefile("rb", buffering=1 << 16)
        self.encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def close(self):
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def send(self, requests):
        self.sock.sendall(b"".join((self.encoder.encode(r) + "\n").encode() for r in requests))

    def receive(self):
        line = self.reader.readline()
        if not line:
            raise BenchError("shardd closed the connection")
        return json.loads(line)

    def call(self, request, allow=()):
        self.send([request])
        answer = self.receive()
        if not answer.get("ok"):
            error = answer.get("error") or {}
            if error.get("code") in allow:
                return answer
            raise ProtocolError(request, error)
        return answer


def rows_of_objects(answer):
    return [obj["values"] for obj in answer["objects"]]


class RawWorkload(benchlib.BaseWorkload):
    # prepare() runs in the parent: the shards, the Report key range of each, the locations.
    def prepare(self):
        conn = Connection(self.args.socket)
        try:
            hello = conn.call({"op": "hello", "client": "shardd_client.py"})
            shards = hello["shards"]
            report_max = {}
            for shard in shards:
                row = conn.call({"op": "aggregate", "model": "Report", "select": [["max", "id"]],
                                 "shard": shard})["rows"][0]
                if row.get("max_id") is not None:
                    report_max[shard] = row["max_id"]
            locations = conn.call({"op": "query", "model": "WeatherLocation", "order_by": ["id"],
                                   "limit": 10000})["objects"]
        finally:
            conn.close()
        location_ids = [obj["values"]["id"] for obj in locations]
        self.check_plan(report_max, location_ids, "shardd_client.py")
        return {"shards": shards, "report_max": report_max, "location_ids": location_ids}


class RawClient(benchlib.BaseClient):
    def __init__(self, workload, plan, index):
        super().__init__(workload, plan, index)
        self.conn = Connection(self.args.socket)
        self.fresh = not self.args.identity_map
        self.report_shards = sorted(plan["report_max"], key=plan["shards"].index)

    def close(self):
        self.conn.close()

    def _gets(self, make, remaining):
        depth = self.args.pipeline if remaining is None else min(self.args.pipeline, remaining)
        requests = [make() for _ in range(depth)]
        self.conn.send(requests)
        for request in requests:
            answer = self.conn.receive()
            if answer.get("ok"):
                self.count("found" if answer.get("object") is not None else "not_found")
            elif (answer.get("error") or {}).get("code") == "ambiguous_identity":
                self.count("ambiguous")
            else:
                raise ProtocolError(request, answer.get("error") or {})
        return depth

    # (1) and (2)
    def op_get_shard_known(self, rng, remaining):
        def make():
            shard = rng.choice(self.report_shards)
            request = {"op": "get", "model": "Report", "pk": rng.randint(1, self.plan["report_max"][shard]),
                       "shard": shard}
            if self.fresh:
                request["fresh"] = True
            return request
        return self._gets(make, remaining)

    # (3)
    def op_get_any_shard(self, rng, remaining):
        def make():
            request = {"op": "get", "model": "WeatherLocation", "pk": rng.choice(self.plan["location_ids"])}
            if self.fresh:
                request["fresh"] = True
            return request
        return self._gets(make, remaining)

    # (4)
    def op_query_one_shard(self, rng, remaining):
        answer = self.conn.call({"op": "query", "model": "WeatherLocation", "where": {"continent": "Europe"}})
        self.last = {"rows": len(answer["objects"]), "shards": answer["shards"]}
        return 1

    # (5)
    def op_query_top10(self, rng, remaining):
        answer = self.conn.call({"op": "query", "model": "Report", "order_by": ["-temperature"], "limit": 10})
        self.last = {"rows": len(answer["objects"]),
                     "temperatures": [o["values"]["temperature"] for o in answer["objects"]],
                     "shards": answer["shards"]}
        return 1

    # (6)
    def op_aggregate_avg(self, rng, remaining):
        answer = self.conn.call({"op": "aggregate", "model": "Report", "select": [["avg", "temperature"]],
                                 "group_by": ["location_id"]})
        pairs = [(row["location_id"], row["avg_temperature"]) for row in answer["rows"]]
        self.last = benchlib.aggregate_answer(pairs)
        self.last["shards"] = answer["shards"]
        return 1

    # (7)
    def op_insert(self, rng, remaining):
        size = self.args.batch if remaining is None else min(self.args.batch, remaining)
        rows = []
        for _ in range(size):
            location_id, temperature, moment = benchlib.report_row(rng, self.plan["location_ids"], self.serial)
            self.serial += 1
            rows.append({"location_id": location_id, "temperature": temperature,
                         "report_time": benchlib.rfc3339(moment)})
        if self.args.sort_batch:
            rows.sort(key=lambda row: row["location_id"])
        self.conn.send([{"op": "add", "model": "Report", "rows": rows}, {"op": "commit"}])
        for request in ("add", "commit"):
            answer = self.conn.receive()
            if not answer.get("ok"):
                raise ProtocolError({"op": request}, answer.get("error") or {})
        self.count("inserted", size)
        return size


RawWorkload.client_class = RawClient


def raw_seed(args):
    """Adds --seed-locations locations (continents in turn, cities "City N") and
    --seed-reports reports (random locations among all, batches of --batch), then commits.
    Not a benchmark: prints what it added."""
    conn = Connection(args.socket)
    try:
        added = 0
        if args.seed_locations:
            start = conn.call({"op": "count", "model": "WeatherLocation"})["count"]
            for first in range(0, args.seed_locations, args.batch):
                rows = [{"continent": benchlib.CONTINENTS[(start + i) % len(benchlib.CONTINENTS)],
                         "city": "City %d" % (start + i + 1)}
                        for i in range(first, min(first + args.batch, args.seed_locations))]
                conn.call({"op": "add", "model": "WeatherLocation", "rows": rows})
                conn.call({"op": "commit"})
                added += len(rows)
        print(json.dumps({"seeded_locations": added}), flush=True)
    finally:
        conn.close()
    if args.seed_reports:
        args.count, args.duration, args.clients = args.seed_reports, None, 1
        benchlib.run(SYSTEM, RawWorkload("insert", args), args, {"seeding": True})


# --------------------------------------------------------------------------------------------
# The workloads through the shardd package (the default).

TIMEOUT = 60.0  # seconds per answer, as the hand-written Connection


class WeatherLocation(shardd.Model):
    """--declared-model: the weather example's models as declared classes."""
    id: int
    continent: str
    city: str


class Report(shardd.Model):
    id: int
    location_id: int
    temperature: Optional[float]
    report_time: Optional[datetime]


def models(args):
    """(location model, report model): the names, or with --declared-model the classes."""
    return (WeatherLocation, Report) if args.declared_model else ("WeatherLocation", "Report")


def connect(path):
    try:
        return shardd.connect(path, timeout=TIMEOUT, client="shardd_client.py")
    except shardd.CannotConnect as error:
        raise BenchError(error.message)


def failed(op, error):
    """A shardd.ShardError as the run's error (the code and message, as --raw tells them)."""
    return BenchError("shardd answered %s to %s: %s" % (error.code, op, error.message))


class Workload(benchlib.BaseWorkload):
    # prepare() runs in the parent: the shards, the Report key range of each, the locations.
    def prepare(self):
        location_model, report_model = models(self.args)
        try:
            with connect(self.args.socket) as session:
                shards = session.server.shards
                report_max = {}
                for shard in shards:
                    row = session.aggregate(report_model, [["max", "id"]], shard=shard)[0]
                    if row.get("max_id") is not None:
                        report_max[shard] = row["max_id"]
                locations = session.query(location_model).order_by("id").limit(10000).all()
        except shardd.ShardError as error:
            raise failed("prepare", error)
        location_ids = [obj.id for obj in locations]
        self.check_plan(report_max, location_ids, "shardd_client.py")
        return {"shards": shards, "report_max": report_max, "location_ids": location_ids}


class Client(benchlib.BaseClient):
    def __init__(self, workload, plan, index):
        super().__init__(workload, plan, index)
        self.location_model, self.report_model = models(self.args)
        self.fresh = not self.args.identity_map
        self.report_shards = sorted(plan["report_max"], key=plan["shards"].index)
        self.report_max = plan["report_max"]
        self.session = connect(self.args.socket)
        self.loop = self.aio = None
        if self.args.pipeline > 1 and self.name in ("get_shard_known", "get_any_shard"):
            # Pipelining is the asyncio session's: D gets gathered on one connection.
            self.loop = asyncio.new_event_loop()
            try:
                self.aio = self.loop.run_until_complete(shardd.aio.connect(self.args.socket, client="shardd_client.py"))
            except shardd.CannotConnect as error:
                raise BenchError(error.message)
        if self.name not in ("get_shard_known", "get_any_shard"):   # the gets tell their errors themselves
            actual = self.op

            def op(rng, remaining):
                try:
                    return actual(rng, remaining)
                except shardd.ShardError as error:
                    raise failed(self.name, error)
            self.op = op

    def close(self):
        try:
            if self.aio is not None:
                self.loop.run_until_complete(self.aio.close())
            if self.loop is not None:
                self.loop.close()
        finally:
            self.session.close()

    def _get(self, model, pk, shard):
        try:
            found = self.session.get(model, pk, shard=shard, fresh=self.fresh)
        except shardd.AmbiguousIdentity:
            self.count("ambiguous")
            return 1
        except shardd.ShardError as error:
            raise failed("get", error)
        self.count("found" if found is not None else "not_found")
        return 1

    def _gets(self, make, remaining):
        """--pipeline D: D gets at once on the asyncio session; their results counted."""
        depth = self.args.pipeline if remaining is None else min(self.args.pipeline, remaining)
        calls = [make() for _ in range(depth)]
        get = self.aio.get
        fresh = self.fresh

        async def gather():
            return await asyncio.gather(*(get(model, pk, shard=shard, fresh=fresh) for model, pk, shard in calls),
                                        return_exceptions=True)
        for result in self.loop.run_until_complete(gather()):
            if isinstance(result, shardd.AmbiguousIdentity):
                self.count("ambiguous")
            elif isinstance(result, shardd.ShardError):
                raise failed("get", result)
            elif isinstance(result, BaseException):
                raise result
            else:
                self.count("found" if result is not None else "not_found")
        return depth

    # (1) and (2)
    def op_get_shard_known(self, rng, remaining):
        if self.aio is not None:
            def make():
                shard = rng.choice(self.report_shards)
                return self.report_model, rng.randint(1, self.report_max[shard]), shard
            return self._gets(make, remaining)
        shard = rng.choice(self.report_shards)
        return self._get(self.report_model, rng.randint(1, self.report_max[shard]), shard)

    # (3)
    def op_get_any_shard(self, rng, remaining):
        if self.aio is not None:
            return self._gets(lambda: (self.location_model, rng.choice(self.plan["location_ids"]), None), remaining)
        return self._get(self.location_model, rng.choice(self.plan["location_ids"]), None)

    # (4)
    def op_query_one_shard(self, rng, remaining):
        found = self.session.query(self.location_model).filter_by(continent="Europe").all()
        self.last = {"rows": len(found), "shards": found.shards}
        return 1

    # (5)
    def op_query_top10(self, rng, remaining):
        found = self.session.query(self.report_model).order_by("-temperature").limit(10).all()
        self.last = {"rows": len(found), "temperatures": [obj.temperature for obj in found], "shards": found.shards}
        return 1

    # (6)
    def op_aggregate_avg(self, rng, remaining):
        rows = self.session.aggregate(self.report_model, [["avg", "temperature"]], group_by=["location_id"])
        self.last = benchlib.aggregate_answer([(row["location_id"], row["avg_temperature"]) for row in rows])
        self.last["shards"] = rows.shards
        return 1

    # (7)
    def op_insert(self, rng, remaining):
        size = self.args.batch if remaining is None else min(self.args.batch, remaining)
        rows = []
        for _ in range(size):
            location_id, temperature, moment = benchlib.report_row(rng, self.plan["location_ids"], self.serial)
            self.serial += 1
            # An aware datetime: the package sends it as RFC 3339 (benchlib.rfc3339's format).
            rows.append({"location_id": location_id, "temperature": temperature, "report_time": moment})
        if self.args.sort_batch:
            rows.sort(key=lambda row: row["location_id"])
        self.session.add_all(self.report_model, rows)
        self.session.commit()
        self.count("inserted", size)
        return size


Workload.client_class = Client


def seed(args):
    """Adds --seed-locations locations (continents in turn, cities "City N") and
    --seed-reports reports (random locations among all, batches of --batch), then commits.
    Not a benchmark: prints what it added."""
    location_model = models(args)[0]
    added = 0
    try:
        with connect(args.socket) as session:
            if args.seed_locations:
                start = session.query(location_model).count()
                for first in range(0, args.seed_locations, args.batch):
                    rows = [{"continent": benchlib.CONTINENTS[(start + i) % len(benchlib.CONTINENTS)],
                             "city": "City %d" % (start + i + 1)}
                            for i in range(first, min(first + args.batch, args.seed_locations))]
                    session.add_all(location_model, rows)
                    session.commit()
                    added += len(rows)
    except shardd.ShardError as error:
        raise failed("seed", error)
    print(json.dumps({"seeded_locations": added}), flush=True)
    if args.seed_reports:
        args.count, args.duration, args.clients = args.seed_reports, None, 1
        benchlib.run(SYSTEM, Workload("insert", args), args, {"seeding": True})


def main():
    parser = benchlib.common_arguments(__doc__.split("\n\n")[0], workload_required=False)
    parser.add_argument("--socket", default="shardd.sock", help="the daemon's socket (default ./shardd.sock)")
    parser.add_argument("--pipeline", type=int, default=1,
                        help="gets: requests in flight per client (default 1: no pipelining)")
    parser.add_argument("--identity-map", action="store_true",
                        help="gets: let the daemon answer from the session's identity map (no \"fresh\")")
    parser.add_argument("--shards-count", type=int,
                        help="value of the \"shards\" field of the output (default: the daemon's shard count)")
    parser.add_argument("--seed-locations", type=int, default=0, metavar="N",
                        help="instead of a workload: add N weather locations first")
    parser.add_argument("--seed-reports", type=int, default=0, metavar="N",
                        help="instead of a workload: add N reports (after --seed-locations)")
    parser.add_argument("--declared-model", action="store_true",
                        help="name the models by declared shardd.Model classes (typed; report_time a datetime) "
                             "instead of their shards.conf names")
    parser.add_argument("--raw", action="store_true",
                        help="run on this file's hand-written line client instead of the shardd package")
    args = parser.parse_args()
    if args.raw and args.declared_model:
        parser.error("--declared-model is the package's: leave out --raw")
    seeding = args.seed_locations > 0 or args.seed_reports > 0
    if seeding and args.workload:
        parser.error("--seed-locations/--seed-reports seed instead of running a workload: leave out --workload")
    if not seeding and not args.workload:
        parser.error("give --workload NAME (or --seed-locations N / --seed-reports N to seed)")
    if args.seed_locations < 0 or args.seed_reports < 0:
        parser.error("--seed-locations and --seed-reports must not be negative")
    benchlib.check_common(parser, args)
    if args.pipeline < 1:
        parser.error("--pipeline must be at least 1")
    if seeding:
        (raw_seed if args.raw else seed)(args)
        return
    workload = (RawWorkload if args.raw else Workload)(args.workload, args)
    extra = {"pipeline": args.pipeline}
    plan_shards = None
    if args.shards_count is not None:
        extra["shards"] = args.shards_count
    elif args.raw:
        conn = Connection(args.socket)
        try:
            plan_shards = conn.call({"op": "hello"})["shards"]
        finally:
            conn.close()
        extra["shards"] = len(plan_shards)
    else:
        with connect(args.socket) as session:
            plan_shards = session.server.shards
        extra["shards"] = len(plan_shards)
    benchlib.run(SYSTEM, workload, args, extra)


if __name__ == "__main__":
    benchlib.main_guard(main)
