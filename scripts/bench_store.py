#!/usr/bin/env python3
"""The store micro-benchmark: shardd's backends against the sqlite3 and psql clients.

Both sides run the same statements on the same table shape: a batched insert (one
transaction of single-row INSERTs) and point selects by primary key. The clients parse
each statement anew and print rows; shardd's backends use cached prepared statements and
decode typed values. The figures are rates (statements per second), measured in one run.
"""
import argparse, json, os, platform, random, subprocess, tempfile, time

CREATE = {
    "sqlite": "CREATE TABLE bench_reports (id INTEGER NOT NULL, location_id INTEGER NOT NULL, "
              "temperature REAL, report_time INTEGER, PRIMARY KEY (id)) STRICT;\n"
              "CREATE INDEX bench_reports_location_id_idx ON bench_reports (location_id);\n",
    "postgres": "DROP TABLE IF EXISTS bench_reports;\n"
                "CREATE TABLE bench_reports (id BIGINT NOT NULL, location_id BIGINT NOT NULL, "
                "temperature DOUBLE PRECISION, report_time TIMESTAMPTZ, PRIMARY KEY (id));\n"
                "CREATE INDEX bench_reports_location_id_idx ON bench_reports (location_id);\n",
}


def timestamp(backend, i):
    micros = 1_795_253_400_000_000 + i
    if backend == "sqlite":
        return str(micros)
    return "to_timestamp(%d / 1000000.0)" % micros


def insert_script(backend, rows):
    lines = [CREATE[backend], "BEGIN;\n"]
    for i in range(1, rows + 1):
        lines.append("INSERT INTO bench_reports (id, location_id, temperature, report_time) VALUES (%d, %d, %s, %s);\n"
                     % (i, i % 1000, float(i % 100), timestamp(backend, i)))
    lines.append("COMMIT;\n")
    return "".join(lines)


def select_script(rows, selects):
    rng = random.Random(42)
    return "".join("SELECT id, location_id, temperature, report_time FROM bench_reports WHERE id = %d;\n"
                   % rng.randint(1, rows) for _ in range(selects))


def quiet_env():
    env = dict(os.environ)
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    return env


def timed(command, script):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        start = time.perf_counter()
        with open(path) as stdin:
            subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, check=True, env=quiet_env())
        return time.perf_counter() - start
    finally:
        os.unlink(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--storebench", required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--selects", type=int, default=100_000)
    args = parser.parse_args()

    results = []
    workdir = tempfile.mkdtemp(prefix="shardd-bench-")
    sqlite_file = os.path.join(workdir, "bench.db")
    for backend, url in (("sqlite", "sqlite:" + sqlite_file), ("postgres", args.pg_url)):
        out = subprocess.run([args.storebench, "--url", url, "--rows", str(args.rows), "--selects", str(args.selects)],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            results.append(json.loads(line))
        if backend == "sqlite":
            cli_file = os.path.join(workdir, "cli.db")
            client = ["sqlite3", "-batch", "-cmd", "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", cli_file]
        else:
            client = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.pg_url]
        insert = timed(client, insert_script(backend, args.rows))
        select = timed(client, select_script(args.rows, args.selects))
        if backend == "postgres":
            subprocess.run(client, input="DROP TABLE bench_reports;", text=True, check=True, stdout=subprocess.DEVNULL, env=quiet_env())
        client_name = "sqlite3 CLI" if backend == "sqlite" else "psql"
        results.append({"client": client_name, "backend": backend, "workload": "batched_insert",
                         "count": args.rows, "seconds": insert, "per_second": int(args.rows / insert)})
        results.append({"client": client_name, "backend": backend, "workload": "point_select",
                         "count": args.selects, "seconds": select, "per_second": int(args.selects / select)})

    print("Machine: %s, %d cores, %s" % (platform.machine(), os.cpu_count(), platform.platform()))
    print("Command: scripts/bench.sh store --rows %d --selects %d\n" % (args.rows, args.selects))
    print("| backend | workload | shardd backend (/s) | client (/s) | ratio |")
    print("|---------|----------|--------------------:|------------:|------:|")
    by = {(r["client"] != "shardd-store", r["backend"], r["workload"]): r for r in results}
    for backend in ("sqlite", "postgres"):
        for workload in ("batched_insert", "point_select", "point_select_pooled"):
            ours = by.get((False, backend, workload))
            peer = by.get((True, backend, workload.replace("_pooled", "")))
            if not ours or not peer:
                continue
            print("| %s | %s | %d | %d | %.1fx |" % (backend, workload, ours["per_second"], peer["per_second"],
                                                      ours["per_second"] / peer["per_second"]))
    print("\nRaw: " + json.dumps(results))


if __name__ == "__main__":
    main()
