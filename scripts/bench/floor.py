#!/usr/bin/env python3
"""The round-trip floor of issue 19's targets 1, 2 and 5: one Python client loop, one request at
a time, against a minimal echo server and against shardd's ping, gets and fan-out reads, in
one sitting.

    python3 scripts/bench/floor.py --socket shardd.sock [--rounds 6] [--duration 2]

The echo server is 20 lines of Python over a Unix socket that answers each line with one
line (`{"ok":true,"pong":true}`): the floor of any line protocol from a Python client. Three
more floors answer the same way: the same in one thread waiting in epoll (how any event loop is
woken), and lineecho (shardd's own transport, NIO and its line framing, with no session; with
--task, answered from a task on the loop as the daemon's sessions are). The
client is the same for every target: sendall of one JSON line, recv until the newline,
json.loads (the bench's hand-written client without its socket timeout). Targets (p50):
ping at most 1.25x the echo; get with the shard known at most ping + 15 us; get without the
shard (every shard asked) at most ping + 30 us. The fan-out reads (workloads (5) and (6): the
top 10 by temperature, the average temperature per location) are measured here too; their
target compares them with direct.py's "every shard at once" floor plus a ping, which
scripts/bench.sh floor does. The gets need the weather data of `weather seed` or the demo
(Report 1 and WeatherLocation 1; Report 1's shard is asked for first); each run of a target
is a process of its own, the targets in turns, their order reversed every other round,
medians over the rounds.

Prints one JSON line per run and then {"summary": ...}; with --markdown, a table too.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array

ECHO_SERVER = r'''
import os, socket, sys, threading
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path); server.listen(16)
print("ready", flush=True)
def serve(conn):
    buffer = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buffer += data
        lines = buffer.count(b"\n")
        buffer = buffer[buffer.rfind(b"\n") + 1:] if lines else buffer
        if lines:
            conn.sendall(b'{"ok":true,"pong":true}\n' * lines)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''

# The same answer from one thread waiting in epoll for every connection: how an event loop
# (NIO's, the daemon's) is woken, against the echo's thread blocked in recv on its socket.
EPOLL_ECHO_SERVER = r'''
import select, socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1]); server.listen(16); server.setblocking(False)
poll = select.epoll(); poll.register(server.fileno(), select.EPOLLIN); conns = {}
print("ready", flush=True)
while True:
    for fd, _ in poll.poll():
        if fd == server.fileno():
            conn, _ = server.accept(); conn.setblocking(False)
            conns[conn.fileno()] = [conn, b""]; poll.register(conn.fileno(), select.EPOLLIN)
            continue
        conn, buffer = conns[fd]
        data = conn.recv(65536)
        if not data:
            poll.unregister(fd); conn.close(); del conns[fd]; continue
        buffer += data
        lines = buffer.count(b"\n")
        conns[fd][1] = buffer[buffer.rfind(b"\n") + 1:] if lines else buffer
        if lines:
            conn.sendall(b'{"ok":true,"pong":true}\n' * lines)
'''

# The floors: a server started per sitting, answering every line with the ping's answer.
ECHOES = ("echo", "echo-epoll", "echo-nio", "echo-nio-task")

TARGETS = {
    "echo": ("echo server (Python, 20 lines, a thread per connection)", None),
    "echo-epoll": ("echo server (Python, one thread in epoll)", None),
    "echo-nio": ("lineecho: shardd's transport (NIO, line framing), no session", None),
    "echo-nio-task": ("lineecho --task: the same, answered from a task on the loop", None),
    "ping": ("shardd ping", {"op": "ping"}),
    "get-map": ("shardd get, shard known, from the identity map (no SQL)",
                {"op": "get", "model": "Report", "pk": 1, "shard": "asia"}),
    "get-shard": ("shardd get, shard known, fresh (1 SQLite point select)",
                  {"op": "get", "model": "Report", "pk": 1, "shard": "asia", "fresh": True}),
    "get-any": ("shardd get, no shard, fresh (every shard asked)",
                {"op": "get", "model": "WeatherLocation", "pk": 1, "fresh": True}),
    "top10": ("shardd query, top 10 by temperature (every shard, merged)",
              {"op": "query", "model": "Report", "order_by": ["-temperature"], "limit": 10}),
    "aggregate": ("shardd aggregate, avg temperature by location (every shard, merged)",
                  {"op": "aggregate", "model": "Report", "select": [["avg", "temperature"]], "group_by": ["location_id"]}),
}
ROUND_TRIP = ("echo", "ping", "get-shard", "get-any")


def line_caller(path, line, what):
    """(call, close) for one connection: call() sends `line` and returns the answer, parsed."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    buffer = b""

    def call():
        nonlocal buffer
        sock.sendall(line)
        while True:
            end = buffer.find(b"\n")
            if end >= 0:
                answer, buffer = buffer[:end], buffer[end + 1:]
                return json.loads(answer)
            data = sock.recv(65536)
            if not data:
                raise SystemExit("floor: %s closed the connection" % what)
            buffer += data
    return call, sock.close


def report_shard(path):
    """The shard that holds Report 1, from its identity key (protocol.md 4)."""
    call, close = line_caller(path, b'{"op":"get","model":"Report","pk":1}\n', "get Report 1")
    answer = call()
    close()
    # Reports are numbered per shard on some layouts: then any of the shards that hold one.
    error = answer.get("error") or {}
    if error.get("code") == "ambiguous_identity" and error.get("keys"):
        return error["keys"][0][2]
    if answer.get("ok") is not True or not answer.get("object"):
        raise SystemExit("floor: no Report 1 (seed the weather data first): %s" % answer)
    return answer["object"]["key"][2]


def one(target, path, duration, shard):
    request = dict(TARGETS[target][1] or {"op": "ping"})
    if "shard" in request:
        request["shard"] = shard
    line = (json.dumps(request, separators=(",", ":")) + "\n").encode()
    call, close = line_caller(path, line, target)
    for _ in range(500):
        answer = call()
    if answer.get("ok") is not True:
        raise SystemExit("floor: %s answered %s" % (target, answer))
    latencies = array("q")
    clock = time.perf_counter_ns
    deadline = time.monotonic() + duration
    start = time.monotonic()
    while time.monotonic() < deadline:
        begin = clock()
        call()
        latencies.append(clock() - begin)
    seconds = time.monotonic() - start
    close()
    ordered = sorted(latencies)
    return {"target": target, "count": len(ordered), "per_second": round(len(ordered) / seconds, 1),
            "p50_us": round(ordered[len(ordered) // 2] / 1000, 1),
            "p99_us": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True, help="the daemon's socket")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=2.0, help="timed seconds per run (default 2)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="comma-separated, of %s (default all)" % ", ".join(TARGETS))
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--lineecho", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                           ".build", "release", "lineecho"),
                        help="the lineecho binary (default .build/release/lineecho)")
    parser.add_argument("--one", choices=list(TARGETS), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--shard", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.path, args.duration, args.shard)), flush=True)
        return
    chosen = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        sys.exit("floor: unknown targets %s (choose from %s)" % (", ".join(unknown) or "(none)", ", ".join(TARGETS)))
    if any(t.startswith("echo-nio") for t in chosen) and not os.access(args.lineecho, os.X_OK):
        sys.exit("floor: %s is not built (swift build -c release --product lineecho), or name it with --lineecho"
                 % args.lineecho)
    shard = report_shard(args.socket) if "get-shard" in chosen or "get-map" in chosen else ""
    directory = tempfile.mkdtemp(prefix="shardd-floor-")
    commands = {"echo": [sys.executable, "-c", ECHO_SERVER], "echo-epoll": [sys.executable, "-c", EPOLL_ECHO_SERVER],
                "echo-nio": [args.lineecho], "echo-nio-task": [args.lineecho, "--task"]}
    paths = {target: os.path.join(directory, target + ".sock") for target in ECHOES if target in chosen}
    servers = []
    try:
        for target, path in paths.items():
            server = subprocess.Popen(commands[target] + [path], stdout=subprocess.PIPE, text=True)
            servers.append(server)
            if server.stdout.readline().strip() != "ready":
                sys.exit("floor: the %s server did not start" % target)
        runs = {target: [] for target in chosen}
        order = chosen
        for round_ in range(args.rounds):
            for target in order if round_ % 2 == 0 else order[::-1]:
                path = paths.get(target, args.socket)
                out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", target, "--path", path,
                                      "--socket", args.socket, "--duration", str(args.duration), "--shard", shard],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit("floor: the %s run failed: %s" % (target, out.stderr.strip() or out.stdout.strip()))
                record = json.loads(out.stdout.strip().splitlines()[-1])
                record["round"] = round_
                runs[target].append(record)
                print(json.dumps(record), flush=True)
    finally:
        for server in servers:
            server.kill()
            server.wait()
        try:
            for path in paths.values():
                if os.path.exists(path):
                    os.unlink(path)
            os.rmdir(directory)
        except OSError:
            pass
    summary = {target: {"title": TARGETS[target][0], "runs": len(records),
                        "p50_us": statistics.median(r["p50_us"] for r in records),
                        "p99_us": statistics.median(r["p99_us"] for r in records),
                        "per_second": statistics.median(r["per_second"] for r in records)}
               for target, records in runs.items()}
    print(json.dumps({"summary": summary, "rounds": args.rounds, "duration_s": args.duration, "report_shard": shard}),
          flush=True)
    if args.markdown and all(t in summary for t in ROUND_TRIP):
        echo_p50, ping_p50 = summary["echo"]["p50_us"], summary["ping"]["p50_us"]
        print()
        print("| what | p50 | p99 | per second | target | |")
        print("|---|--:|--:|--:|---|---|")
        checks = {"echo": ("the floor", None),
                  "get-map": ("(what a get costs without its select)", None),
                  "echo-epoll": ("the floor of an event loop", None),
                  "echo-nio": ("the floor of shardd's transport", None),
                  "echo-nio-task": ("the same with the session's hop", None),
                  "ping": ("at most 1.25x the echo's (%.1f µs)" % (1.25 * echo_p50), 1.25 * echo_p50),
                  "get-shard": ("at most ping + 15 µs (%.1f µs)" % (ping_p50 + 15), ping_p50 + 15),
                  "get-any": ("at most ping + 30 µs (%.1f µs)" % (ping_p50 + 30), ping_p50 + 30)}
        for target, figures in summary.items():
            text, bound = checks.get(target, ("(with direct.py's floor: scripts/bench.sh floor)", None))
            verdict = "" if bound is None else ("**met**" if figures["p50_us"] <= bound else "not met")
            print("| %s | %.1f µs | %.1f µs | %s/s | %s | %s |" % (figures["title"], figures["p50_us"], figures["p99_us"],
                                                              format(int(figures["per_second"]), ","), text, verdict))


if __name__ == "__main__":
    main()
