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
shards one after the other pays, before any merging), and the slowest single shard (what
asking all shards at once could at best reach with one core per shard). SQLite through
Python's sqlite3 module (libsqlite3), PostgreSQL through psycopg2 (libpq). Prints one JSON
line per statement: {"system": "direct", "workload", "rounds", "round_ms" (median),
"slowest_shard_ms" (median), "per_second"}.

With --insert N: instead, workload (7)'s floor. N reports in batches of --batch rows, each
batch split evenly over the shards, one transaction per shard and batch: the statement shardd
sends (one multi-row INSERT ... RETURNING per shard), random existing locations of the shard,
random temperatures and times. Writes to the shards (run it last). SQLite with
synchronous=FULL in WAL mode, as the daemon. Prints one JSON line: {"workload": "insert",
"round_ms" (median time of one batch over all shards in sequence), "slowest_shard_ms",
"per_second" (rows/s in sequence), "parallel_per_second" (rows/s if every shard ran at once,
each on its own core)}.
"""
import argparse
import json
import random
import sqlite3
import statistics
import time

STATEMENTS = {
    "query_top10": "SELECT id, location_id, temperature, report_time FROM weather_reports "
                   "ORDER BY temperature DESC LIMIT 10",
    "aggregate_avg": "SELECT location_id, sum(temperature), count(temperature) FROM weather_reports "
                     "GROUP BY location_id",
}


def connect(url, write=False):
    if url.startswith("sqlite:"):
        if write:
            connection = sqlite3.connect(url[len("sqlite:"):], isolation_level=None, timeout=30)
            connection.execute("PRAGMA synchronous=FULL")
            return connection
        connection = sqlite3.connect("file:%s?mode=ro" % url[len("sqlite:"):], uri=True)
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
    rounds, slowest = [], []
    inserted = 0
    while inserted < total:
        per_shard = []
        for connection, sqlite, locations, sql in targets:
            values = []
            for _ in range(shard_rows):
                # Microseconds since 1970 on SQLite (as shardd stores a timestamp), text on PostgreSQL.
                moment = 1_700_000_000_000_000 + rng.randrange(10 ** 12)
                stamp = moment if sqlite else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment // 1_000_000))
                values += [rng.choice(locations), round(rng.uniform(-30, 50), 2), stamp]
            begin = time.perf_counter()
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
            cursor.execute(sql, values)
            cursor.fetchall()
            cursor.execute("COMMIT")
            cursor.close()
            per_shard.append(time.perf_counter() - begin)
        inserted += shard_rows * len(targets)
        rounds.append(sum(per_shard))
        slowest.append(max(per_shard))
    for connection, _, _, _ in targets:
        connection.close()
    rows = shard_rows * len(targets)
    round_s, slowest_s = statistics.median(rounds), statistics.median(slowest)
    print(json.dumps({"system": "direct", "workload": "insert", "rounds": len(rounds), "rows": inserted,
                      "batch": rows, "round_ms": round(round_s * 1000, 3),
                      "slowest_shard_ms": round(slowest_s * 1000, 3), "per_second": round(rows / round_s, 1),
                      "parallel_per_second": round(rows / slowest_s, 1), "shards": len(targets)}), flush=True)


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
    for workload, sql in STATEMENTS.items():
        for _, connection in connections:  # warm the caches
            run(connection, sql)
        rounds, slowest = [], []
        deadline = time.monotonic() + args.duration
        while len(rounds) < 3 or time.monotonic() < deadline:
            per_shard = []
            for _, connection in connections:
                begin = time.perf_counter()
                run(connection, sql)
                per_shard.append(time.perf_counter() - begin)
            rounds.append(sum(per_shard))
            slowest.append(max(per_shard))
        round_s = statistics.median(rounds)
        print(json.dumps({"system": "direct", "workload": workload, "rounds": len(rounds),
                          "round_ms": round(round_s * 1000, 3),
                          "slowest_shard_ms": round(statistics.median(slowest) * 1000, 3),
                          "per_second": round(1 / round_s, 1), "shards": len(connections)}), flush=True)
    for _, connection in connections:
        connection.close()


if __name__ == "__main__":
    main()
