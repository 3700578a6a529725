#!/usr/bin/env python3
"""Draws the benchmark's scaling curves from a JSON-lines results file.

    .venv-bench/bin/python scripts/peer/plot.py results.jsonl --out bench-plots/

Each input line is a result like those of sqlalchemy_peer.py and shardd_client.py:
{"system": ..., "workload": "get_shard_known", "clients": N, "shards": M, "per_second": ...}
(other fields are ignored, except "pipeline": a pipeline depth above 1 makes its own series,
e.g. "shardd-python, pipeline 16"). Lines that are blank, not JSON or lack one of those fields
are skipped with a warning.

For every workload it writes <out>/<prefix><workload>.png with up to two panels:
- throughput against clients, at one shard count (--at-shards; default: the shard count
  that workload has most results for);
- throughput against shards, at one client count (--at-clients; default likewise).
A panel with fewer than two distinct x values is left out; a workload with no panel gets no
file. Each series is one system; when a point was measured more than once, the last line wins.
The y axis is logarithmic (the systems differ by orders of magnitude) unless --linear.
Prints the path of each PNG written.
"""
import argparse
import collections
import json
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator, ScalarFormatter
except ImportError as error:
    sys.exit("plot.py: %s; run scripts/peer/setup.sh and use .venv-bench/bin/python" % error)

TITLES = {
    "get_shard_known": "get by primary key, shard known",
    "get_any_shard": "get by primary key, no shard (fan-out)",
    "query_one_shard": "query narrowed to one shard (continent = Europe)",
    "query_top10": "query over all shards, order by -temperature, limit 10",
    "aggregate_avg": "avg(temperature) group by location_id",
    "insert": "batched insert of reports (rows/s)",
}


def read_results(path):
    rows, skipped = [], 0
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                ok = (isinstance(row, dict) and isinstance(row.get("system"), str)
                      and isinstance(row.get("workload"), str)
                      and all(isinstance(row.get(k), (int, float)) and not isinstance(row.get(k), bool)
                              for k in ("clients", "shards", "per_second")))
            except ValueError:
                ok = False
            if not ok:
                skipped += 1
                print("plot.py: %s:%d: skipped (not a result with system, workload, clients, shards, per_second)"
                      % (path, number), file=sys.stderr)
                continue
            rows.append(row)
    return rows, skipped


def series_name(row):
    pipeline = row.get("pipeline")
    if isinstance(pipeline, int) and pipeline > 1:
        return "%s, pipeline %d" % (row["system"], pipeline)
    return row["system"]


def most_common(values):
    counts = collections.Counter(values)
    best = max(counts.values())
    return min(value for value, count in counts.items() if count == best)


def curves(rows, x_key, fixed_key, fixed_value):
    """{series: [(x, per_second)...]} for rows with row[fixed_key] == fixed_value."""
    points = collections.OrderedDict()
    for row in rows:
        if row[fixed_key] != fixed_value:
            continue
        points.setdefault(series_name(row), {})[row[x_key]] = row["per_second"]  # last line wins
    return {name: sorted(values.items()) for name, values in points.items()}


def draw_panel(axis, data, x_label, title, log_y):
    xs = sorted({x for values in data.values() for x, _ in values})
    for name, values in data.items():
        axis.plot([x for x, _ in values], [y for _, y in values], marker="o", label=name)
    axis.set_xscale("log", base=2)
    axis.xaxis.set_major_locator(FixedLocator(xs))
    axis.xaxis.set_major_formatter(ScalarFormatter())
    axis.xaxis.set_minor_locator(NullLocator())
    if log_y:
        axis.set_yscale("log")
        plain = FuncFormatter(lambda value, _: "{:,.0f}".format(value))
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(plain)
    axis.set_xlabel(x_label)
    axis.set_ylabel("operations per second")
    axis.set_title(title, fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="JSON-lines file of results")
    parser.add_argument("--out", default=".", help="folder for the PNGs (created; default: .)")
    parser.add_argument("--prefix", default="scaling-", help="file name prefix (default: scaling-)")
    parser.add_argument("--workload", action="append", help="only this workload (repeatable)")
    parser.add_argument("--at-shards", type=int, help="shard count of the against-clients panel")
    parser.add_argument("--at-clients", type=int, help="client count of the against-shards panel")
    parser.add_argument("--linear", action="store_true", help="linear y axis")
    args = parser.parse_args()

    try:
        rows, _ = read_results(args.results)
    except OSError as error:
        sys.exit("plot.py: cannot read %s: %s" % (args.results, error.strerror or error))
    if args.workload:
        rows = [row for row in rows if row["workload"] in args.workload]
    if not rows:
        sys.exit("plot.py: no results to plot in %s" % args.results)
    os.makedirs(args.out, exist_ok=True)

    by_workload = collections.OrderedDict()
    for row in rows:
        by_workload.setdefault(row["workload"], []).append(row)

    written = 0
    for workload, group in by_workload.items():
        at_shards = args.at_shards if args.at_shards is not None else most_common(r["shards"] for r in group)
        at_clients = args.at_clients if args.at_clients is not None else most_common(r["clients"] for r in group)
        panels = []
        vs_clients = curves(group, "clients", "shards", at_shards)
        if len({x for values in vs_clients.values() for x, _ in values}) >= 2:
            panels.append((vs_clients, "clients", "against clients (%d shards)" % at_shards))
        vs_shards = curves(group, "shards", "clients", at_clients)
        if len({x for values in vs_shards.values() for x, _ in values}) >= 2:
            panels.append((vs_shards, "shards", "against shards (%d clients)" % at_clients))
        if not panels:
            print("plot.py: %s: fewer than two client or shard counts, no plot" % workload, file=sys.stderr)
            continue
        figure, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.6), squeeze=False)
        for axis, (data, x_label, title) in zip(axes[0], panels):
            draw_panel(axis, data, x_label, title, not args.linear)
        figure.suptitle("%s: throughput" % TITLES.get(workload, workload))
        figure.tight_layout()
        path = os.path.join(args.out, "%s%s.png" % (args.prefix, workload))
        figure.savefig(path, dpi=110)
        plt.close(figure)
        print(path)
        written += 1
    if not written:
        sys.exit("plot.py: nothing to plot: every workload has fewer than two client or shard counts")


if __name__ == "__main__":
    main()
