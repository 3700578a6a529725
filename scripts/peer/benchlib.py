"""What the two benchmark clients share (standard library only).

`sqlalchemy_peer.py` (SQLAlchemy's ShardedSession) and `shardd_client.py` (the shardd line
protocol) run the same workloads with the same command line and print the same JSON line, so
that the harness can put their figures side by side. This module holds the parts that must
not differ between them: the workload names, the command line, the random keys and rows, the
closed-loop driver (one process per client), the percentiles and the output.

A workload is a class with:
  - `prepare(self)`: runs once, in the parent, before any client starts (not timed); returns
    picklable data for the clients (e.g. the key ranges found on the shards);
  - `client(self, plan, index)`: runs in the client's process (so that connections are opened
    after the fork), sets up what the client needs (not timed) and returns an object with
    `op(rng) -> units done` (timed, one latency sample per call) and `answer() -> JSON value`;
  - `merge(self, answers) -> JSON value`: combines the clients' answers.
"""
import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import time
import traceback
from array import array
from datetime import datetime, timedelta, timezone

# The workloads of issue 7, by number, under the names the harness uses.
WORKLOADS = {
    "get_shard_known": "(1)/(2) get a Report by primary key with its shard named",
    "get_any_shard": "(3) get a WeatherLocation by primary key without a shard (identity chooser fan-out)",
    "query_one_shard": "(4) WeatherLocation where continent = 'Europe' (execute chooser: one shard)",
    "query_top10": "(5) Report order by temperature desc limit 10 over all shards",
    "aggregate_avg": "(6) avg(temperature) group by location_id over all shards",
    "insert": "(7) batched insert of reports (add + commit per batch)",
}

CONTINENT_SHARDS = {
    "North America": "north_america",
    "Asia": "asia",
    "Europe": "europe",
    "South America": "south_america",
}
CONTINENTS = list(CONTINENT_SHARDS)

# report_time of generated reports: from this instant, one second apart.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
BASE_TIME = datetime(2026, 11, 21, 0, 0, 0, tzinfo=timezone.utc)

SEED = 20261121


class BenchError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


def common_arguments(description, workload_required=True):
    parser = argparse.ArgumentParser(description=description, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="workloads:\n" + "\n".join(
                                         "  %-16s %s" % item for item in WORKLOADS.items()))
    parser.add_argument("--workload", required=workload_required, choices=list(WORKLOADS))
    parser.add_argument("--clients", type=int, default=1,
                        help="concurrent clients, one process each (default 1; 1 runs in this process)")
    how_long = parser.add_mutually_exclusive_group()
    how_long.add_argument("--duration", type=float,
                          help="seconds to run (closed loop; default 5 when --count is not given)")
    how_long.add_argument("--count", type=int,
                          help="operations to run in all clients together (insert: rows)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="insert: rows per batch, one commit each (default 1000)")
    parser.add_argument("--sort-batch", action="store_true",
                        help="insert: sort each batch by location_id (default: locations in random order)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help="random seed; client i uses seed + i, so both systems ask for the same keys")
    parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                        help="extra field copied into the JSON line (repeatable), e.g. shards_backend=sqlite")
    return parser


def check_common(parser, args):
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be positive")
    if args.count is None and args.duration is None:
        args.duration = 5.0
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    labels = {}
    for item in args.label:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error("--label takes KEY=VALUE, got %r" % item)
        labels[key] = value
    args.labels = labels


def report_row(rng, location_ids, serial):
    """One generated report: (location_id, temperature, report_time). Temperatures have two
    decimals so that ties are rare but possible."""
    return (rng.choice(location_ids),
            round(rng.uniform(-40.0, 50.0), 2),
            BASE_TIME + timedelta(seconds=serial))


def rfc3339(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _client_loop(workload, plan, index, clients, args, ready=None):
    """Sets the client up, waits for the others, then runs the closed loop. Returns
    (units, start, end, latencies_ns as bytes, answer)."""
    rng = random.Random(args.seed + index)
    client = workload.client(plan, index)
    if args.count is not None:
        quota = args.count // clients + (1 if index < args.count % clients else 0)
    else:
        quota = None
    if ready is not None:
        ready.wait()
    latencies = array("q")
    units = 0
    clock = time.perf_counter_ns
    start = time.monotonic()
    deadline = start + args.duration if args.duration is not None else None
    if quota is not None:
        while units < quota:
            begin = clock()
            units += client.op(rng, quota - units)
            latencies.append(clock() - begin)
    else:
        while time.monotonic() < deadline:
            begin = clock()
            units += client.op(rng, None)
            latencies.append(clock() - begin)
    end = time.monotonic()
    answer = client.answer()
    close = getattr(client, "close", None)
    if close is not None:
        close()
    return units, start, end, latencies.tobytes(), answer


def _process_main(workload, plan, index, clients, args, ready, pipe):
    try:
        pipe.send(("ok", _client_loop(workload, plan, index, clients, args, ready)))
    except BaseException as error:  # noqa: B902 - reported to the parent, which exits 1
        message = str(error) if isinstance(error, BenchError) else traceback.format_exc()
        try:
            ready.abort()
        except Exception:
            pass
        pipe.send(("error", "client %d: %s" % (index, message)))
    finally:
        pipe.close()


def run(system, workload, args, extra=None):
    """Prepares, runs the clients, prints the JSON line; returns the result dict."""
    plan = workload.prepare()
    clients = args.clients
    if clients == 1:
        results = [_client_loop(workload, plan, 0, 1, args)]
    else:
        context = multiprocessing.get_context("fork")
        ready = context.Barrier(clients)
        pipes, processes = [], []
        for index in range(clients):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_process_main,
                                      args=(workload, plan, index, clients, args, ready, sender),
                                      daemon=True)
            process.start()
            sender.close()
            pipes.append(receiver)
            processes.append(process)
        results, errors = [], []
        for index, (pipe, process) in enumerate(zip(pipes, processes)):
            try:
                status, value = pipe.recv()
            except EOFError:
                status, value = "error", "client %d died (exit code %s)" % (index, process.exitcode)
            if status == "ok":
                results.append(value)
            else:
                errors.append(value)
        for process in processes:
            process.join()
        if errors:
            # A broken barrier in the others is a consequence, not a cause: show the cause.
            real = [e for e in errors if "BrokenBarrierError" not in e] or errors
            raise BenchError("; ".join(e.strip() for e in real))
    units = sum(r[0] for r in results)
    seconds = max(r[2] for r in results) - min(r[1] for r in results)
    latencies = array("q")
    for r in results:
        latencies.frombytes(r[3])
    ordered = sorted(latencies)
    p50 = percentile(ordered, 0.50)
    p99 = percentile(ordered, 0.99)
    line = {
        "system": system,
        "workload": workload.name,
        "count": units,
        "seconds": round(seconds, 6),
        "per_second": round(units / seconds, 1) if seconds > 0 else None,
        "p50_us": round(p50 / 1000, 1) if p50 is not None else None,
        "p99_us": round(p99 / 1000, 1) if p99 is not None else None,
        "answer": workload.merge([r[4] for r in results]),
        "clients": clients,
        "operations": len(ordered),
    }
    line.update(extra or {})
    line.update(args.labels)
    print(json.dumps(line), flush=True)
    return line


class BaseWorkload:
    """What both systems' workloads share: the name and arguments, the plan's checks, one
    client per process, and how the clients' answers are merged."""

    client_class = None  # set by each script to its Client

    def __init__(self, name, args):
        self.name = name
        self.args = args

    def check_plan(self, report_max, location_ids, seed_hint):
        """Refuses to run on shards without the rows the workload reads."""
        if self.name == "get_shard_known" and not report_max:
            raise BenchError("no reports on any shard: seed first (%s --seed-locations N --seed-reports M)" % seed_hint)
        if self.name in ("get_any_shard", "insert") and not location_ids:
            raise BenchError("no weather locations: seed first (%s --seed-locations N)" % seed_hint)

    def client(self, plan, index):
        return self.client_class(self, plan, index)

    def merge(self, answers):
        if self.name in ("get_shard_known", "get_any_shard", "insert"):
            return sum_counts(answers)
        return answers[0]


class BaseClient:
    """One client process's bookkeeping: its op, its counts or last answer, its rows' times."""

    def __init__(self, workload, plan, index):
        self.name = workload.name
        self.args = workload.args
        self.plan = plan
        self.counts = {}
        self.last = None
        self.serial = index * 1_000_000_000  # report_time of generated rows: distinct per client
        self.op = getattr(self, "op_" + self.name)

    def answer(self):
        return self.last if self.last is not None else self.counts

    def count(self, key, n=1):
        self.counts[key] = self.counts.get(key, 0) + n


def sum_counts(answers):
    """Merges {name: int} answers by adding them up."""
    total = {}
    for answer in answers:
        for key, value in answer.items():
            total[key] = total.get(key, 0) + value
    return total


def aggregate_answer(pairs, note=None):
    """The answer of (6) from (location_id, avg) pairs in the order they came back."""
    ids = [pair[0] for pair in pairs]
    answer = {
        "groups": len(pairs),
        "distinct_location_ids": len(set(ids)),
        "sorted_by_location_id": ids == sorted(ids),
        "avg_checksum": round(sum(float(pair[1]) for pair in pairs if pair[1] is not None), 6),
        "first": [[pair[0], round(float(pair[1]), 6) if pair[1] is not None else None] for pair in pairs[:3]],
    }
    if note:
        answer["note"] = note
    return answer


def main_guard(function):
    """Runs function(); BenchError and interrupts become one line on stderr and exit 1."""
    try:
        function()
    except BenchError as error:
        print("%s: %s" % (os.path.basename(sys.argv[0]), error), file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
