#!/usr/bin/env python3
"""The get loop of workload (1) through the shardd package against the bench's hand-written
client (issue 20: "its get loop is no slower than the bench's hand-written client").

    python3 scripts/bench/getloop.py --socket shardd.sock [--rounds 4] [--duration 2.5]

Each variant is scripts/peer/shardd_client.py's own client of get_shard_known, one client,
closed loop, no pipelining, "fresh": true (the very objects the bench's rows use):

- package: `session.get("Report", pk, shard=..., fresh=True)`, the model by its name;
- package, declared class: the same with `Report`, a `shardd.Model` (report_time a datetime);
- package, no timeout: by name, `shardd.connect()`'s default (no timeout per answer);
- hand-written: shardd_client.py --raw (its `Connection`: socket.makefile, json).

The others have the hand-written client's 60 s timeout per answer: Python's socket timeout
in the hand-written client (a poll() before every send and receive), the kernel's in the
package where it can (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket: Linux and macOS, 64-bit),
so the no-timeout row shows what, if anything, the timeout costs it. Every run is a
process of its own (`--one VARIANT`), 500 untimed gets first, then `--duration` seconds
timed; the variants take turns (their order reversed every other round, to cancel drift on
a shared machine), each round with its own seed, the same for every variant of the round
(so that all ask for the same keys). Client CPU is time.process_time() over the timed loop
(user + system: the socket calls are most of it).

Prints one JSON line per run, then {"summary": {variant: medians over the rounds}}.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from array import array

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

VARIANTS = {
    "package": "package (\"Report\" by name)",
    "package-class": "package (declared class Report)",
    "package-blocking": "package (\"Report\"), connect()'s default: no timeout",
    "hand-written": "hand-written (shardd_client.py --raw)",
}
WARMUP = 500


def one(variant, socket, duration, seed):
    sys.path.insert(0, os.path.join(ROOT, "scripts", "peer"))
    import benchlib
    import shardd_client
    args = argparse.Namespace(socket=socket, identity_map=False, pipeline=1, declared_model=variant == "package-class")
    kind = shardd_client.RawWorkload if variant == "hand-written" else shardd_client.Workload
    workload = kind("get_shard_known", args)
    if variant == "package-blocking":
        shardd_client.TIMEOUT = None
    plan = workload.prepare()
    client = workload.client(plan, 0)
    op = client.op
    rng = random.Random(seed)
    for _ in range(WARMUP):
        op(rng, None)
    latencies = array("q")
    clock = time.perf_counter_ns
    units = 0
    cpu = time.process_time()
    start = time.monotonic()
    deadline = start + duration
    while time.monotonic() < deadline:
        begin = clock()
        units += op(rng, None)
        latencies.append(clock() - begin)
    seconds = time.monotonic() - start
    cpu = time.process_time() - cpu
    answer = client.answer()
    client.close()
    ordered = sorted(latencies)
    return {"variant": variant, "count": units, "seconds": round(seconds, 3),
            "per_second": round(units / seconds, 1),
            "p50_us": round(benchlib.percentile(ordered, 0.5) / 1000, 1),
            "p99_us": round(benchlib.percentile(ordered, 0.99) / 1000, 1),
            "cpu_us_per_call": round(cpu / units * 1e6, 2), "answer": answer}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=2.5, help="timed seconds per run (default 2.5)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated, of: %s" % ", ".join(VARIANTS))
    parser.add_argument("--one", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.socket, args.duration, args.seed)), flush=True)
        return
    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        if variant not in VARIANTS:
            parser.error("unknown variant %r" % variant)
    runs = {variant: [] for variant in variants}
    for round_ in range(args.rounds):
        for variant in variants if round_ % 2 == 0 else variants[::-1]:
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", variant, "--socket", args.socket,
                                  "--duration", str(args.duration), "--seed", str(args.seed + round_)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.stderr.write(out.stderr)
                sys.exit("getloop: the %s run of round %d failed (exit %d)" % (variant, round_, out.returncode))
            record = json.loads(out.stdout.strip().splitlines()[-1])
            record["round"] = round_
            runs[variant].append(record)
            print(json.dumps(record), flush=True)
    summary = {}
    for variant in variants:
        records = runs[variant]
        summary[variant] = {"title": VARIANTS[variant], "runs": len(records), "calls": sum(r["count"] for r in records)}
        for key in ("per_second", "p50_us", "p99_us", "cpu_us_per_call"):
            summary[variant][key] = round(statistics.median(r[key] for r in records), 2)
    print(json.dumps({"summary": summary, "rounds": args.rounds, "duration_s": args.duration}), flush=True)


if __name__ == "__main__":
    main()
