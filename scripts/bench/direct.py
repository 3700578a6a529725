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
"""
import argparse
import json
import sqlite3
import statistics
import time

STATEMENTS = {
    "query_top10": "SELECT id, location_id, temperature, report_time FROM weather_reports "
                   "ORDER BY temperature DESC LIMIT 10",
    "aggregate_avg": "SELECT location_id, sum(temperature), count(temperature) FROM weather_reports "
                     "GROUP BY location_id",
}


def connect(url):
    if url.startswith("sqlite:"):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shard", action="append", required=True, metavar="NAME=URL")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per statement (at least 3 rounds)")
    args = parser.parse_args()
    shards = [item.partition("=")[::2] for item in args.shard]
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
