#!/usr/bin/env python3
"""Commits through shardd: a closed loop of `add` + `commit`, the commit timed.

    python3 scripts/bench/commits.py --socket S --kind cross --clients 8 --duration 5
    python3 scripts/bench/commits.py --socket A --socket B --rounds 10 --duration 5
    python3 scripts/bench/commits.py --fsync-floor DIR --duration 2

--kind cross adds one WeatherLocation on each of two shards (Asia and Europe) per commit;
--kind single one (Asia). Each client is one process with one session. The daemon's commit
mode is whatever its shards.conf says (the harness runs it in both). With several --socket,
each client alternates between the daemons in --rounds short rounds, so that every daemon
sees the same disk: this machine's fsync latency drifts by 2-10x over seconds, and daemons
measured one after the other would compare the disk's moods instead of the commit modes.
--fsync-floor measures instead the machine's floor of a decision: a small append to a file
in DIR, then fsync.

Prints one JSON line per socket, in the order given (with "socket"): {"system": "shardd-commits" | "fsync", "workload", "clients", "count",
"seconds", "per_second" (commits/s), "p50_us", "p99_us" (the commit request alone),
"add_p50_us", "txids" (commits answered with a txid)}. Standard library only.
"""
import argparse
import json
import multiprocessing
import os
import sys
import time

from rawloop import Conn, percentile


def client(args, index, start_at, out):
    conns = [Conn(path, name="commits.py") for path in args.socket]
    continents = ["Asia", "Europe"] if args.kind == "cross" else ["Asia"]
    rows = [{"continent": c, "city": "bench-%d" % index} for c in continents]
    # Per socket: commit latencies, add latencies, commits answered with a txid, seconds.
    stats = [([], [], 0, 0.0) for _ in conns]
    # Half a second of warm-up per daemon, not timed.
    for conn in conns:
        warm = time.monotonic() + 0.5
        while time.monotonic() < warm:
            conn.call({"op": "add", "model": "WeatherLocation", "rows": rows})
            conn.call({"op": "commit"})
    while time.time() < start_at:
        time.sleep(0.001)
    # Every daemon gets duration in all, as `rounds` slices taken in turn.
    slice_s = args.duration / args.rounds
    for _ in range(args.rounds):
        for which, conn in enumerate(conns):
            commits, adds, txids, seconds = stats[which]
            end = time.monotonic() + slice_s
            began = time.monotonic()
            while time.monotonic() < end:
                t0 = time.perf_counter_ns()
                conn.call({"op": "add", "model": "WeatherLocation", "rows": rows})
                t1 = time.perf_counter_ns()
                answer = conn.call({"op": "commit"})
                t2 = time.perf_counter_ns()
                adds.append(t1 - t0)
                commits.append(t2 - t1)
                txids += "txid" in answer
            stats[which] = (commits, adds, txids, seconds + time.monotonic() - began)
    out.put(stats)


def fsync_floor(args):
    path = os.path.join(args.fsync_floor, "fsync-floor.bin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    samples = []
    end = time.monotonic() + args.duration
    try:
        while time.monotonic() < end:
            t0 = time.perf_counter_ns()
            os.write(fd, b"x" * 200)
            os.fsync(fd)
            samples.append(time.perf_counter_ns() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    samples.sort()
    print(json.dumps({"system": "fsync", "workload": "fsync_append", "clients": 1, "count": len(samples),
                      "seconds": args.duration, "per_second": round(len(samples) / args.duration, 1),
                      "p50_us": round(percentile(samples, 0.5) / 1000, 1), "p99_us": round(percentile(samples, 0.99) / 1000, 1)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", action="append", help="a daemon's socket; repeat to interleave daemons")
    parser.add_argument("--rounds", type=int, default=1, help="slices per daemon, taken in turn")
    parser.add_argument("--kind", choices=["cross", "single"], default="cross")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--fsync-floor", metavar="DIR")
    args = parser.parse_args()
    if args.fsync_floor:
        fsync_floor(args)
        return
    if not args.socket:
        sys.exit("commits.py: --socket is required")
    out = multiprocessing.Queue()
    start_at = time.time() + 1.0 + 0.1 * args.clients
    processes = [multiprocessing.Process(target=client, args=(args, i, start_at, out)) for i in range(args.clients)]
    for process in processes:
        process.start()
    results = [out.get(timeout=args.duration * len(args.socket) + 120) for _ in processes]
    for process in processes:
        process.join()
    for which, path in enumerate(args.socket):
        mine = [r[which] for r in results]
        commits = sorted(x for r in mine for x in r[0])
        adds = sorted(x for r in mine for x in r[1])
        seconds = max(r[3] for r in mine)
        print(json.dumps({"system": "shardd-commits", "socket": path, "workload": "commit_" + args.kind,
                          "clients": args.clients, "rounds": args.rounds, "count": len(commits), "seconds": round(seconds, 3),
                          "per_second": round(len(commits) / seconds, 1) if seconds else None,
                          "p50_us": round(percentile(commits, 0.5) / 1000, 1),
                          "p99_us": round(percentile(commits, 0.99) / 1000, 1),
                          "add_p50_us": round(percentile(adds, 0.5) / 1000, 1), "txids": sum(r[2] for r in mine)}))


if __name__ == "__main__":
    main()
