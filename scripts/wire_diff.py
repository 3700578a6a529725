#!/usr/bin/env python3
"""Replays the same request lines against two shardd binaries and compares the answers byte
for byte: the check that a refactoring left the wire unchanged.

    scripts/wire_diff.py OLD_SHARDD NEW_SHARDD [--corpus FILE] [--pg-url URL]

Each daemon gets a fresh copy of the built-in configuration (four SQLite shards; with
--pg-url, europe is a fresh schema of that PostgreSQL database) in a temporary directory.
The corpus (default: the one below) is a list of request lines; a line `--- session` starts
a new connection, so that a corpus can use several sessions. Only what must differ between
two runs is masked before comparing: the temporary directory, uptimes, latencies, pids,
connection times and the PostgreSQL schema. Exits 0 when every answer is equal, 1 otherwise,
printing each difference.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

CORPUS = r"""
{"id":1,"op":"hello","client":"wire_diff"}
{"op":"ping"}
{"id":"a","op":"ping"}
not json
[1,2]
{"id":5,"op":"ping","op":"ping"}
{"id":6}
{"id":7,"op":3}
{"id":8,"op":"launch"}
{"id":9,"op":"ping","shard":"asia"}
{"id":[1],"op":"ping"}
{"id":10,"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"North America","city":"New York"},{"continent":"North America","city":"Toronto"},{"continent":"Europe","city":"London"},{"continent":"Europe","city":"Dublin"},{"continent":"South America","city":"Brasilia"},{"continent":"South America","city":"Quito"}]}
{"id":11,"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80.0,"report_time":"2026-11-21T09:30:00Z"},{"location_id":2,"temperature":75,"report_time":"2026-11-21T10:30:00.250+01:00"},{"location_id":7,"temperature":85,"report_time":"1969-12-31T23:59:59.999999Z"},{"location_id":4,"temperature":-3.5},{"location_id":4,"temperature":null}]}
{"id":12,"op":"commit"}
{"id":13,"op":"get","model":"WeatherLocation","pk":1}
{"id":14,"op":"get","model":"Report","pk":1}
{"id":15,"op":"get","model":"Report","pk":1,"shard":"asia","fresh":true,"include":["location"]}
{"id":16,"op":"get","model":"Report","pk":[1,2]}
{"id":17,"op":"get","model":"Nope","pk":1,"fresh":"x"}
{"id":18,"op":"get","model":"Report","pk":1,"shard":"mars"}
{"id":19,"op":"get","model":"Report","pk":"1"}
{"id":20,"op":"query","model":"WeatherLocation","where":["in","continent",["Europe","Asia"]]}
{"id":21,"op":"query","model":"WeatherLocation","where":["starts_with","city","T"],"shard":"north_america"}
{"id":22,"op":"query","model":"Report","order_by":["-temperature"],"limit":2}
{"id":23,"op":"query","model":"Report","order_by":["report_time","-id"],"offset":1,"include":["location"]}
{"id":24,"op":"query","model":"Report","where":{"nope":1}}
{"id":25,"op":"query","model":"Report","where":["like","city","%"]}
{"id":26,"op":"query","model":"WeatherLocation","where":["or",["=","continent","Asia"],["like","city","%on%"]],"order_by":["city"]}
{"id":27,"op":"query","model":"Report","where":[">","report_time","2000-01-01T00:00:00Z"],"shards":["asia","north_america","asia"]}
{"id":28,"op":"query","model":"Report","shard":"asia","shards":["asia"]}
{"id":29,"op":"query","model":"Report","limit":-1}
{"id":30,"op":"count","model":"Report"}
{"id":31,"op":"count","model":"WeatherLocation","where":{"continent":"Europe"}}
{"id":32,"op":"aggregate","model":"Report","select":[["avg","temperature"],["count","*"],["min","report_time"],["max","temperature","hottest"]],"group_by":["location_id"],"order_by":["-hottest"]}
{"id":33,"op":"aggregate","model":"Report","select":[["sum","id"],["count","temperature"]],"having":[">","count_temperature",0]}
{"id":34,"op":"aggregate","model":"Report","select":[["median","temperature"]]}
{"id":35,"op":"aggregate","model":"Report","select":[["sum","city"]]}
{"id":36,"op":"identity_keys","model":"Report"}
{"id":37,"op":"identity_keys"}
{"id":38,"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"reports"}
{"id":39,"op":"load","key":["Report",[1],"asia"],"relationship":"location"}
{"id":40,"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"visits"}
{"id":41,"op":"update","key":["Report",[1],"asia"],"values":{"temperature":86}}
{"id":42,"op":"update","key":["Report",[1],"asia"],"values":{"location_id":4}}
{"id":43,"op":"update","key":["Report",[1],"asia"],"values":{}}
{"id":44,"op":"update","key":["Report",[1],"asia"],"values":{"id":2}}
{"id":45,"op":"update","key":["Report",[99],"asia"],"values":{"temperature":1}}
{"id":46,"op":"update","key":["WeatherLocation",[1],"asia"],"values":{"continent":"Europe"}}
{"id":47,"op":"refresh","key":["Report",[1],"asia"]}
{"id":48,"op":"refresh","key":["Report",[42],"asia"]}
{"id":49,"op":"update_where","model":"Report","where":{"location_id":4},"values":{"temperature":1.5}}
{"id":50,"op":"update_where","model":"WeatherLocation","values":{"continent":"Europe"}}
{"id":51,"op":"delete_where","model":"Report","where":[">","temperature",85]}
{"id":52,"op":"rollback"}
{"id":53,"op":"begin"}
{"id":54,"op":"add","model":"Report","values":{"location_id":99,"temperature":1}}
{"id":55,"op":"add","model":"Report","values":{"location_id":1,"temperature":"hot"}}
{"id":56,"op":"add","model":"WeatherLocation","values":{"continent":"Atlantis","city":"X"}}
{"id":57,"op":"add","model":"WeatherLocation","values":{"id":3,"continent":"Asia","city":"X"}}
{"id":58,"op":"add","model":"WeatherLocation","values":{"continent":"Asia"}}
{"id":59,"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Osaka","color":"red"}}
{"id":60,"op":"add","model":"WeatherLocation","rows":[]}
{"id":61,"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Kyoto"},"shard":"mars"}
{"id":62,"op":"add","model":"Report","values":{"location_id":1,"temperature":1e400}}
{"id":63,"op":"add","model":"Report","values":{"location_id":9223372036854775808,"temperature":1}}
{"id":64,"op":"add","model":"Report","values":{"location_id":1,"report_time":"2026-13-01T00:00:00Z"}}
{"id":65,"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Nara\u0000"}}
{"id":66,"op":"delete","key":["Report",[2],"north_america"]}
{"id":67,"op":"delete","key":["Report",[2],"north_america"]}
{"id":68,"op":"expunge","key":["Report",[1],"asia"]}
{"id":69,"op":"expunge","key":["Report",[1],"asia"]}
{"id":70,"op":"expunge_all"}
{"id":71,"op":"commit"}
{"id":72,"op":"sql","sql":"SELECT 1","shard":"asia"}
{"id":73,"op":"keys","session":"x","limit":3}
{"id":74,"op":"stats"}
{"id":75,"op":"sessions"}
{"id":76,"op":"shards"}
{"id":77,"op":"keys","model":"Report"}
{"id":78,"op":"get","model":"Report","pk":1,"shard":"asia","x":1,"y":2}
{"id":79,"op":"count","model":"Report","shards":["mars"]}
{"id":80,"op":"query","model":"Report","where":["between","temperature",1,"2"]}
{"id":81,"op":"query","model":"Report","where":["and"]}
{"id":82,"op":"query","model":"Report","where":["not",["is_null","report_time"]],"order_by":["-report_time"]}
--- session
{"id":90,"op":"hello"}
{"id":91,"op":"query","model":"Report","order_by":["id"],"include":["location"]}
{"id":92,"op":"add","model":"Report","values":{"location_id":4,"temperature":7}}
{"id":93,"op":"update_where","model":"Report","where":{"location_id":4},"values":{"report_time":"2026-01-01T00:00:00.5Z"},"shard":"europe"}
{"id":94,"op":"aggregate","model":"Report","select":[["sum","temperature"],["avg","id"]],"where":{"location_id":4}}
{"id":95,"op":"commit"}
{"id":96,"op":"identity_keys"}
"""

VOLATILE = [
    (re.compile(r'"uptime_s":\d+'), '"uptime_s":0'),
    (re.compile(r'"latency_ms":[0-9.e+-]+'), '"latency_ms":0'),
    (re.compile(r'"latency_us":\{.*?\}\}'), '"latency_us":{}'),
    (re.compile(r'"connected_at":"[^"]*"'), '"connected_at":""'),
    (re.compile(r'"pid":\d+'), '"pid":0'),
]


def start(binary, work, pg_url):
    config = subprocess.run([binary, "--help"], capture_output=True, text=True)  # fails fast on a bad path
    if config.returncode != 0:
        sys.exit("%s --help failed: %s" % (binary, config.stderr))
    text = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shards.conf")).read()
    env = dict(os.environ)
    if pg_url:
        schema = "wd_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", pg_url, "-qc", "CREATE SCHEMA %s" % schema], check=True)
        text = text.replace('url = "sqlite:data/europe.db"', 'url_env = "SHARDD_EUROPE_URL"')
        sep = "&" if "?" in pg_url else "?"
        env["SHARDD_EUROPE_URL"] = pg_url + sep + "options=-c%20search_path%3D" + schema
    text = text.replace("[server]\n", "[server]\nallow_raw_sql = true\n", 1)
    path = os.path.join(work, "shards.conf")
    open(path, "w").write(text)
    log = open(os.path.join(work, "log"), "w")
    process = subprocess.Popen([binary, "--config", path], stderr=log, env=env)
    sock = os.path.join(work, "shardd.sock")
    for _ in range(600):
        if os.path.exists(sock):
            break
        if process.poll() is not None:
            sys.exit("%s exited at start; see %s" % (binary, log.name))
        time.sleep(0.05)
    return process, sock


def replay(sock, corpus, work):
    answers = []
    connection = None
    for line in corpus:
        if line == "--- session" or connection is None:
            if connection:
                connection.close()
            connection = socket.socket(socket.AF_UNIX)
            connection.connect(sock)
            reader = connection.makefile("rb")
            if line == "--- session":
                continue
        connection.sendall(line.encode() + b"\n")
        answer = reader.readline().decode().rstrip("\n")
        answer = answer.replace(work, "<dir>")
        for pattern, replacement in VOLATILE:
            answer = pattern.sub(replacement, answer)
        answer = re.sub(r"wd_[0-9a-f]{12}", "<schema>", answer)
        answers.append((line, answer))
    connection.close()
    return answers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--corpus", help="a file of request lines (default: the built-in corpus)")
    parser.add_argument("--pg-url", help="a PostgreSQL URL for the europe shard")
    args = parser.parse_args()
    text = open(args.corpus).read() if args.corpus else CORPUS
    corpus = [line for line in text.splitlines() if line.strip()]
    results = []
    for binary in (args.old, args.new):
        with tempfile.TemporaryDirectory(prefix="shardd-wire-") as work:
            process, sock = start(binary, work, args.pg_url)
            try:
                results.append(replay(sock, corpus, work))
            finally:
                process.terminate()
                process.wait(timeout=30)
    differences = 0
    for (line, a), (_, b) in zip(*results):
        if a != b:
            differences += 1
            print("request: %s\n  old: %s\n  new: %s" % (line, a, b))
    print("%d requests, %d answers differ" % (len(results[0]), differences))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
