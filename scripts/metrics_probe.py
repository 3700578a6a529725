#!/usr/bin/env python3
"""Fetches shardd's /metrics or /health and prints what it found as one JSON object, for
the end-to-end tests (Tests/EndToEndTests/MetricsTests.swift) and for a quick look by hand.

    scripts/metrics_probe.py http://127.0.0.1:9187/metrics   families parsed by prometheus_client
    scripts/metrics_probe.py http://127.0.0.1:9187/health    {"status": HTTP status, "body": ...}

/metrics is parsed with prometheus_client's own text parser (pip install prometheus_client),
so that what the tests check is what a Prometheus server would read."""
import json
import sys
import urllib.error
import urllib.request


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()
    except OSError as error:
        return 0, "", str(error)


def main():
    url = sys.argv[1]
    status, content_type, body = fetch(url)
    if not url.endswith("/metrics") or status != 200:
        print(json.dumps({"status": status, "content_type": content_type, "body": body}))
        return
    from prometheus_client.parser import text_string_to_metric_families
    families = {}
    for family in text_string_to_metric_families(body):
        # The parser names a counter's family without its _total; keyed as exposed.
        name = family.name + "_total" if family.type == "counter" else family.name
        families[name] = {
            "type": family.type,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
    print(json.dumps({"status": status, "content_type": content_type, "families": families}))


if __name__ == "__main__":
    main()
