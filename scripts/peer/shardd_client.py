#!/usr/bin/env python3
"""A small Python client of the shardd line protocol, and the benchmark workloads run with it.

Standard library only (socket, json). One connection is one shardd session; each client of a
run is one process with one connection, in a closed loop (send, wait for the answer, send
the next), or with --pipeline D: D requests sent at once, then their D answers read.

    python3 scripts/peer/shardd_client.py --socket shardd.sock --workload get_shard_known --duration 5
    python3 scripts/peer/shardd_client.py --socket shardd.sock --workload insert --count 100000
    python3 scripts/peer/shardd_client.py --socket shardd.sock --seed-locations 1000 --seed-reports 100000

Prints one JSON line: {"system": "shardd-python", "workload", "count", "seconds",
"per_second", "p50_us", "p99_us", "answer", "clients", "shards", "pipeline", ...}.

Same workloads, keys and rows as sqlalchemy_peer.py (see benchlib.py). Decisions:
- gets send "fresh": true (the daemon bypasses the session's identity map and reads the
  shard), because the peer opens a fresh Session per operation and so always reads the
  database; --identity-map lets the daemon answer repeated keys from the map instead;
- with --pipeline D, one latency sample is one group: from sending its D requests to reading
  the last of their answers ("operations" in the output counts samples, "count" requests);
- an answer with "ok": false stops the run with its code and message, except a get's
  ambiguous_identity, which is counted in the answer (as the peer counts MultipleResultsFound).
"""
import json
import os
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import BenchError  # noqa: E402

SYSTEM = "shardd-python"


class ProtocolError(BenchError):
    def __init__(self, request, error):
        self.code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        super().__init__("shardd answered %s to %s: %s" % (self.code, request.get("op"), message))


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


class Workload(benchlib.BaseWorkload):
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


class Client(benchlib.BaseClient):
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


Workload.client_class = Client


def seed(args):
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
    args = parser.parse_args()
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
        seed(args)
        return
    workload = Workload(args.workload, args)
    extra = {"pipeline": args.pipeline}
    plan_shards = None
    if args.shards_count is not None:
        extra["shards"] = args.shards_count
    else:
        conn = Connection(args.socket)
        try:
            plan_shards = conn.call({"op": "hello"})["shards"]
        finally:
            conn.close()
        extra["shards"] = len(plan_shards)
    benchlib.run(SYSTEM, workload, args, extra)


if __name__ == "__main__":
    benchlib.main_guard(main)
