#!/usr/bin/env python3
"""Two shardd release binaries, A and B, measured in alternating rounds on copies of the same
seeded 4-SQLite-shard data (the workloads step's cache), so that both see the same machine:

    scripts/bench/ab_daemons.py --a OLD/shardd --b NEW/shardd --seeded .bench-data/seeded/sqlite4-... \
        --weather .build/release/weather --rounds 6 [--cpu-only]

Per round and binary: rawloop ping and get p50 (one client; skipped with --cpu-only), then
weather load get and ping with 16 clients x 16 pipelined for 8 s each, with the daemon's CPU
time per request from /proc/PID/stat. Prints each round and the medians. BENCHMARKS.md,
"Metrics: the cost of counting", used it."""
import argparse, json, os, shutil, signal, subprocess, sys, time, statistics
HERE = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--a", required=True); parser.add_argument("--b", required=True)
parser.add_argument("--seeded", required=True); parser.add_argument("--weather", required=True)
parser.add_argument("--rounds", type=int, default=6); parser.add_argument("--cpu-only", action="store_true")
args = parser.parse_args()
SEED_DIR = args.seeded
VARIANTS = {"A": args.a, "B": args.b}
WEATHER = args.weather
RAWLOOP = os.path.join(HERE, "rawloop.py")
conf = open(os.path.join(HERE, "..", "..", "shards.conf")).read()
results = {v: {} for v in VARIANTS}
def run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout
for v in VARIANTS:
    d = "/tmp/shardd-ab/" + v
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(SEED_DIR, d)
    c = conf.replace('socket = "shardd.sock"', 'socket = "s.sock"').replace('state_dir = "data"', 'state_dir = "state"').replace("sqlite:data/", "sqlite:")
    open(d + "/shards.conf", "w").write(c)
rounds = args.rounds
MODE = "cpu" if args.cpu_only else "all"
for r in range(rounds):
    for v in (VARIANTS if r % 2 == 0 else list(reversed(list(VARIANTS)))):
        d = "/tmp/shardd-ab/" + v
        log = open(d + "/log.txt", "a")
        p = subprocess.Popen([VARIANTS[v], "--config", d + "/shards.conf", "--log-level", "warning"], stdout=log, stderr=log)
        sock = d + "/s.sock"
        for _ in range(300):
            if os.path.exists(sock): break
            time.sleep(0.05)
        time.sleep(1)
        out = {}
        def cpu():
            f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        if MODE != "cpu":
            for name, cmd in [("ping1", ["python3", RAWLOOP, "--socket", sock, "--op", "ping", "--duration", "5"]),
                              ("get1", ["python3", RAWLOOP, "--socket", sock, "--op", "get", "--duration", "5"])]:
                j = json.loads(run(cmd).strip().splitlines()[-1]); out[name + "_p50_us"] = j["p50_us"]
        for name, op in [("get16x16", "get"), ("ping16x16", "ping")]:
            before = cpu()
            txt = run([WEATHER, "load", "--socket", sock, "--mix", op + "=1", "--clients", "16", "--pipeline", "16", "--duration", "8", "--seed", "7", "--json"])
            used = cpu() - before
            j = json.loads(txt)
            out[name + "_per_s"] = j["ops"][op]["throughput_per_s"]
            out[name + "_cpu_us_per_req"] = round(used * 1e6 / j["ops"][op]["count"], 2)
        p.send_signal(signal.SIGTERM); p.wait(timeout=30)
        print(r, v, json.dumps(out), flush=True)
        for k, val in out.items(): results[v].setdefault(k, []).append(val)
print("MEDIANS")
for v in VARIANTS:
    print(v, {k: statistics.median(x) if all(isinstance(i, (int, float)) for i in x) else x for k, x in results[v].items()})
