#!/usr/bin/env python3
"""The floor of the socket: one client, one request at a time, in the smallest Python loop.

    python3 scripts/bench/rawloop.py --socket S --op ping --duration 5
    python3 scripts/bench/rawloop.py --socket S --op get --shard europe --shard south_america --duration 5

`ping` is the round trip over the socket with no database behind it. `get` is the issue's
workload (1) (a Report by primary key, its shard named, "fresh": read from the shard, not
from the session's identity map) restricted to the shards given with --shard (default all
that hold reports): the same loop as `ping`, so that the ratio of the two p50s is the
daemon's cost of the get, not the client's; and with --shard on PostgreSQL shards only, the
latency to compare with a direct libpq statement.

Both ops encode the request with json.dumps and decode the answer with json.loads on every
call (as any client must). Half a second of warm-up is not timed. Prints one JSON line:
{"system": "shardd-rawloop", "workload": "ping"|"get_shard_known", "shards_asked", "count",
"seconds", "per_second", "p50_us", "p99_us", "mean_us", "clients": 1, "pipeline": 1}.
Standard library only.
"""
import argparse
import json
import math
import random
import socket
import sys
import time


def percentile(ordered, fraction):
    if not ordered:
        return None
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


class Conn:
    """One connection to shardd; `name` prefixes the error that ends the program."""

    def __init__(self, path, name="rawloop.py"):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb", buffering=1 << 16)

    def call(self, request):
        self.sock.sendall((json.dumps(request, separators=(",", ":")) + "\n").encode())
        line = self.reader.readline()
        if not line:
            sys.exit("%s: shardd closed the connection" % self.name)
        answer = json.loads(line)
        if not answer.get("ok"):
            sys.exit("%s: shardd answered %s to %s" % (self.name, answer.get("error"), request.get("op")))
        return answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--op", choices=["ping", "get"], required=True)
    parser.add_argument("--shard", action="append", default=[], help="get: only these shards (repeatable)")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    conn = Conn(args.socket)
    hello = conn.call({"op": "hello", "client": "rawloop.py"})
    rng = random.Random(args.seed)
    ranges = {}
    if args.op == "get":
        shards = args.shard or hello["shards"]
        for shard in shards:
            if shard not in hello["shards"]:
                sys.exit("rawloop.py: no shard %r (shards: %s)" % (shard, ", ".join(hello["shards"])))
            row = conn.call({"op": "aggregate", "model": "Report", "select": [["max", "id"]], "shard": shard})["rows"][0]
            if row.get("max_id"):
                ranges[shard] = row["max_id"]
        if not ranges:
            sys.exit("rawloop.py: no reports on %s" % ", ".join(shards))
        names = sorted(ranges, key=hello["shards"].index)

        def make():
            shard = rng.choice(names)
            return {"op": "get", "model": "Report", "pk": rng.randint(1, ranges[shard]), "shard": shard, "fresh": True}
    else:
        names = []

        def make():
            return {"op": "ping"}

    warm = time.monotonic() + 0.5
    while time.monotonic() < warm:
        conn.call(make())
    latencies = []
    clock = time.perf_counter_ns
    start = time.monotonic()
    deadline = start + args.duration
    while time.monotonic() < deadline:
        request = make()
        begin = clock()
        conn.call(request)
        latencies.append(clock() - begin)
    seconds = time.monotonic() - start
    ordered = sorted(latencies)
    line = {
        "system": "shardd-rawloop",
        "workload": "ping" if args.op == "ping" else "get_shard_known",
        "shards_asked": names,
        "count": len(ordered),
        "seconds": round(seconds, 6),
        "per_second": round(len(ordered) / seconds, 1),
        "p50_us": round(percentile(ordered, 0.5) / 1000, 1),
        "p99_us": round(percentile(ordered, 0.99) / 1000, 1),
        "mean_us": round(sum(ordered) / len(ordered) / 1000, 1),
        "clients": 1,
        "pipeline": 1,
    }
    for item in args.label:
        key, _, value = item.partition("=")
        line[key] = value
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
