#!/usr/bin/env python3
"""The statements of workloads (5) and (6) run directly on each shard, with no daemon and no ORM.

    .venv-bench/bin/python scripts/bench/direct.py --shard north_america=sqlite:/abs/na.db \\
        --shard europe=postgresql://shardd:shardd@127.0.0.1:5432/bench_europe --duration 3

Runs, one shard after the other, the SQL a sharding layer has to send to every shard:
- top10: SELECT id, location_id, temperature, report_time FROM weather_reports
         ORDER BY temperature DESC LIMIT 10 (no index on temperature: a scan of the shard);
- aggregate: SELECT location_id, sum(temperature), count(temperature) FROM weather_reports
         GROUP BY location_id (the partials of avg).
For each: the time of one round over all shards in sequence (what a client that asks the
shards one after the other pays, before any merging), the slowest single shard (what
asking all shards at once could at best reach with one core per shard), and one round with
every shard at once, a thread per shard on the machine's cores as they are (the floor of
issue 19's target 5; sqlite3 and psycopg2 release the GIL while a statement runs). SQLite through
Python's sqlite3 module (libsqlite3), PostgreSQL through psycopg2 (libpq). Prints one JSON
line per statement: {"system": "direct", "workload", "rounds", "round_ms" (median),
"slowest_shard_ms" (median), "at_once_ms" (median), "per_second"}.

With --insert N: instead, workload (7)'s floor. N reports in batches of --batch rows, each
batch split evenly over the shards, one transaction per shard and batch: the statement shardd
sends (one multi-row INSERT ... RETURNING per shard), random existing locations of the shard,
random temperatures and times. Writes to the shards (run it last). SQLite with
synchronous=FULL in WAL mode, as the daemon. Prints one JSON line: {"workload": "insert",
"round_ms" (median time of one batch over all shards in sequence), "slowest_shard_ms",
"per_second" (rows/s in sequence), "parallel_per_second" (rows/s if every shard ran at once,
each on its own core), "at_once_per_second" (rows/s measured with every shard's batch at once,
a thread per shard on the machine's cores: issue 19's target 6)}.
"""
import argparse
import json
import random
import sqlite3
import statistics
import threading
import time

STATEMENTS = {
    "query_top10": "SELECT id, location_id, temperature, report_time FROM weather_reports "
                   "ORDER BY temperature DESC LIMIT 10",
    "aggregate_avg": "SELECT location_id, sum(temperature), count(temperature) FROM weather_reports "
                     "GROUP BY location_id",
}


def connect(url, write=False):
    if url.startswith("sqlite:"):
        # check_same_thread off: the at-once rounds use each connection from a thread of its
        # own, one statement at a time.
        if write:
            connection = sqlite3.connect(url[len("sqlite:"):], isolation_level=None, timeout=30, check_same_thread=False)
            connection.execute("PRAGMA synchronous=FULL")
            return connection
        connection = sqlite3.connect("file:%s?mode=ro" % url[len("sqlite:"):], uri=True, check_same_thread=False)
        return connection
    import psycopg2  # noqa: PLC0415 - only when a PostgreSQL shard is given
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def run(connection, sql):
    cursor = connection.cursor()
    cursor.execute(sql)
    rows = cursor.fetchall()
    cursor.close()
    return rows


class AtOnce:
    """A thread per shard that runs one job each time `round` is called, all of them at once;
    the round's wall time is what asking every shard at once costs on this machine's cores."""

    def __init__(self, count):
        self.jobs = [None] * count
        self.error = None
        self.start = threading.Barrier(count + 1)
        self.done = threading.Barrier(count + 1)
        self.threads = [threading.Thread(target=self.serve, args=(i,), daemon=True) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def serve(self, index):
        while True:
            self.start.wait()
            job = self.jobs[index]
            if job is None:
                return
            try:
                job()
            except Exception as error:  # noqa: BLE001 - reported by round, never a hang
                self.error = error
            self.done.wait()

    def round(self, jobs):
        """Runs jobs[i] on thread i, all at once; returns the seconds until the last ended."""
        self.jobs = list(jobs)
        begin = time.perf_counter()
        self.start.wait()
        self.done.wait()
        seconds = time.perf_counter() - begin
        if self.error is not None:
            raise SystemExit("direct.py: a statement failed: %s" % self.error)
        return seconds

    def close(self):
        self.jobs = [None] * len(self.jobs)
        self.start.wait()


def insert_floor(shards, total, batch):
    """Workload (7)'s statements, straight to the shards."""
    rng = random.Random(20261121)
    shard_rows = max(1, batch // len(shards))
    targets = []
    for name, url in shards:
        connection = connect(url, write=True)
        locations = [row[0] for row in run(connection, "SELECT id FROM weather_locations")]
        if not locations:
            raise SystemExit("direct.py: shard %s has no weather_locations: seed first" % name)
        sqlite = url.startswith("sqlite:")
        marker = "(?, ?, ?)" if sqlite else "(%s, %s, %s)"
        sql = ("INSERT INTO weather_reports (location_id, temperature, report_time) VALUES "
               + ", ".join([marker] * shard_rows) + " RETURNING id, location_id, temperature, report_time")
        targets.append((connection, sqlite, locations, sql))

    def batch_values(sqlite, locations):
        values = []
        for _ in range(shard_rows):
            # Microseconds since 1970 on SQLite (as shardd stores a timestamp), text on PostgreSQL.
            moment = 1_700_000_000_000_000 + rng.randrange(10 ** 12)
            stamp = moment if sqlite else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment // 1_000_000))
            values += [rng.choice(locations), round(rng.uniform(-30, 50), 2), stamp]
        return values

    def insert(connection, sqlite, sql, values):
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
        cursor.execute(sql, values)
        cursor.fetchall()
        cursor.execute("COMMIT")
        cursor.close()

    # Half the batches one shard after the other, half with every shard at once, in turns.
    rounds, slowest, at_once = [], [], []
    inserted = 0
    threads = AtOnce(len(targets))
    while inserted < total:
        batches = [(connection, sqlite, sql, batch_values(sqlite, locations)) for connection, sqlite, locations, sql in targets]
        if len(rounds) <= len(at_once):
            per_shard = []
            for connection, sqlite, sql, values in batches:
                begin = time.perf_counter()
                insert(connection, sqlite, sql, values)
                per_shard.append(time.perf_counter() - begin)
            rounds.append(sum(per_shard))
            slowest.append(max(per_shard))
        else:
            at_once.append(threads.round([lambda b=b: insert(*b) for b in batches]))
        inserted += shard_rows * len(targets)
    threads.close()
    for connection, _, _, _ in targets:
        connection.close()
    rows = shard_rows * len(targets)
    round_s, slowest_s = statistics.median(rounds), statistics.median(slowest)
    at_once_s = statistics.median(at_once) if at_once else None
    print(json.dumps({"system": "direct", "workload": "insert", "rounds": len(rounds) + len(at_once), "rows": inserted,
                      "batch": rows, "round_ms": round(round_s * 1000, 3),
                      "slowest_shard_ms": round(slowest_s * 1000, 3), "per_second": round(rows / round_s, 1),
                      "parallel_per_second": round(rows / slowest_s, 1),
                      "at_once_ms": round(at_once_s * 1000, 3) if at_once_s else None,
                      "at_once_per_second": round(rows / at_once_s, 1) if at_once_s else None,
                      "shards": len(targets)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shard", action="append", required=True, metavar="NAME=URL")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per statement (at least 3 rounds)")
    parser.add_argument("--insert", type=int, default=0, metavar="N", help="(7)'s floor: insert N reports instead")
    parser.add_argument("--batch", type=int, default=5000, help="with --insert: rows per batch over all shards")
    args = parser.parse_args()
    shards = [item.partition("=")[::2] for item in args.shard]
    if args.insert:
        insert_floor(shards, args.insert, args.batch)
        return
    connections = [(name, connect(url)) for name, url in shards]
    threads = AtOnce(len(connections))
    for workload, sql in STATEMENTS.items():
        for _, connection in connections:  # warm the caches
            run(connection, sql)
        # Rounds in sequence and rounds with every shard at once, in turns.
        rounds, slowest, at_once = [], [], []
        deadline = time.monotonic() + args.duration
        while len(at_once) < 3 or time.monotonic() < deadline:
            per_shard = []
            for _, connection in connections:
                begin = time.perf_counter()
                run(connection, sql)
                per_shard.append(time.perf_counter() - begin)
            rounds.append(sum(per_shard))
            slowest.append(max(per_shard))
            at_once.append(threads.round([lambda c=connection: run(c, sql) for _, connection in connections]))
        round_s = statistics.median(rounds)
        print(json.dumps({"system": "direct", "workload": workload, "rounds": len(rounds),
                          "round_ms": round(round_s * 1000, 3),
                          "slowest_shard_ms": round(statistics.median(slowest) * 1000, 3),
                          "at_once_ms": round(statistics.median(at_once) * 1000, 3),
                          "per_second": round(1 / round_s, 1), "shards": len(connections)}), flush=True)
    threads.close()
    for _, connection in connections:
        connection.close()


if __name__ == "__main__":
    main()
