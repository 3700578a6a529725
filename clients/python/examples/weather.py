"""Illustrates sharding with shardd: SQLAlchemy's examples/sharding/separate_databases.py,
played against the daemon.

In SQLAlchemy's example one process holds four SQLite engines, an id generator and the
shard, id and execute chooser functions. Here the daemon holds them, from shards.conf (the
weather example, which is also its embedded default): the four shards, `id = "sequence"`
for locations (ids unique across shards), `id = "shard_local"` for reports (each shard
counts its own, so two reports can both have id 1), and `shard_by` rules the three choosers
follow. This script declares the two models and plays the example's session.

    swift run shardd &                      # in the repository
    pip install ./clients/python
    python3 clients/python/examples/weather.py [SOCKET]

It can run again against the same daemon: the rows of an earlier run (or of `weather demo`)
are found and reused instead of added twice, as `weather demo` does; queries also say
`city in (the 7 cities)`, so that rows of `weather seed` stay out of the answers.
"""

import datetime
import json
import sys
from typing import Dict, List, Optional

import shardd
from shardd import col, include, inspect


# mappings. The tables are the daemon's (shards.conf); the classes name the model and
# declare its columns, typed, and its relationships.

class WeatherLocation(shardd.Model):
    __model__ = "WeatherLocation"

    id: int
    continent: str
    city: str

    reports: List["Report"]      # loaded with include("reports")

    def __init__(self, continent: str, city: str) -> None:
        self.continent = continent
        self.city = city


class Report(shardd.Model):
    __model__ = "Report"

    id: int
    location_id: int
    temperature: Optional[float]
    report_time: Optional[datetime.datetime]

    location: Optional[WeatherLocation]

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature
        # SQLAlchemy's default=datetime.datetime.now, as an aware time: the daemon stores instants.
        self.report_time = datetime.datetime.now(datetime.timezone.utc)


# the choosers. SQLAlchemy's example writes shard_chooser, id_chooser and execute_chooser;
# the daemon's are decided by shards.conf: WeatherLocation rows go to the shard of their
# continent, Report rows to their location's shard, a get without a shard asks every shard,
# and a query's where on continent (= and in) asks only the shards it maps to.


# save and load objects!

tokyo = WeatherLocation("Asia", "Tokyo")
newyork = WeatherLocation("North America", "New York")
toronto = WeatherLocation("North America", "Toronto")
london = WeatherLocation("Europe", "London")
dublin = WeatherLocation("Europe", "Dublin")
brasilia = WeatherLocation("South America", "Brasilia")   # "Brasila" in SQLAlchemy's example; the README's spelling
quito = WeatherLocation("South America", "Quito")

# tokyo.reports.append(Report(80.0)) and so on: the reports, by their location.
tokyo_report, newyork_report, quito_report = Report(80.0), Report(75), Report(85)
reports = [(tokyo, tokyo_report), (newyork, newyork_report), (quito, quito_report)]

locations = [tokyo, newyork, toronto, london, dublin, brasilia, quito]
cities = [location.city for location in locations]
ours = col("city").in_(cities)


def add_or_reuse(sess: shardd.Session) -> None:
    """sess.add_all(...) of the example, but reusing the rows of an earlier run."""
    global tokyo, newyork, quito, tokyo_report, newyork_report, quito_report
    earlier: Dict[str, WeatherLocation] = {}
    for row in sess.query(WeatherLocation).filter(ours).order_by("id"):
        if row.city not in earlier and any(row.city == l.city and row.continent == l.continent for l in locations):
            earlier[row.city] = row
    new = [location for location in locations if location.city not in earlier]
    sess.add_all(new)        # the shard chooser places each by its continent
    for location in locations:
        how = "found (an earlier run's)" if location.city in earlier else "added"
        print("   %-9s %-16s %s key %s" % (location.city, "(%s)" % location.continent, how,
                                           json.dumps((earlier.get(location.city) or location).key.to_json())))
    current = {location.city: earlier.get(location.city, location) for location in locations}
    tokyo, newyork, quito = current["Tokyo"], current["New York"], current["Quito"]

    found_reports: Dict[str, Report] = {}
    old = [current[location.city].id for location, _ in reports if location.city in earlier]
    if old:
        # The locations are in the session's identity map: the execute chooser asks their shards only.
        for found in sess.query(Report).filter(col("location_id").in_(old)).order_by("id"):
            for location, report in reports:
                if (current[location.city].id == found.location_id and found.temperature == report.temperature
                        and location.city not in found_reports):
                    found_reports[location.city] = found
    added = []
    for location, report in reports:
        if location.city in found_reports:
            continue
        report.location_id = current[location.city].id
        added.append(report)
    sess.add_all(added)      # each goes to its location's shard (shard_by.parent)
    for location, new_report in reports:
        shown = found_reports.get(location.city, new_report)
        print("   report %-5s of %-9s %s key %s" % (shown.temperature, location.city,
                                                    "found" if location.city in found_reports else "added",
                                                    json.dumps(shown.key.to_json())))
    tokyo_report = found_reports.get("Tokyo", tokyo_report)
    newyork_report = found_reports.get("New York", newyork_report)
    quito_report = found_reports.get("Quito", quito_report)
    if new or added:
        print("   commit -> shards %s" % sess.commit().shards)


def first_report_of_its_shard(sess: shardd.Session, report: Report) -> bool:
    """Whether no report of the shard has a smaller id: then its id is the shard's first, 1."""
    return sess.query(Report).set_shard(report.identity_token).filter(col("id") < report.id).count() == 0


with shardd.connect(sys.argv[1] if len(sys.argv) > 1 else None) as sess:
    print("SQLAlchemy's weather sharding example, against shardd at %s (shards %s)"
          % (sess.socket, ", ".join(sess.server.shards)))

    print("\nsess.add_all([tokyo, newyork, toronto, london, dublin, brasilia, quito]); sess.commit()")
    add_or_reuse(sess)

    print("\nt = sess.get(WeatherLocation, tokyo.id): no shard given, so every shard is asked")
    t = sess.get(WeatherLocation, tokyo.id, fresh=True, options=[include("reports")])
    assert t is not None
    print("   -> %s, key %s, reports %s" % (t.city, json.dumps(t.key.to_json()), [r.temperature for r in t.reports]))
    assert t.city == tokyo.city
    assert t.reports[0].temperature == 80.0

    print("\nselect WeatherLocation where continent == 'North America'")
    north_american_cities = sess.query(WeatherLocation).filter(col("continent") == "North America", ours).all()
    print("   -> %s, asked shards %s" % (sorted(c.city for c in north_american_cities), north_american_cities.shards))
    assert {c.city for c in north_american_cities} == {"New York", "Toronto"}
    assert north_american_cities.shards == ["north_america"]

    print("\nselect WeatherLocation where continent in ('Europe', 'Asia')")
    asia_and_europe = sess.query(WeatherLocation).filter(col("continent").in_(["Europe", "Asia"]), ours).all()
    print("   -> %s, asked shards %s" % (sorted(c.city for c in asia_and_europe), asia_and_europe.shards))
    assert {c.city for c in asia_and_europe} == {"Tokyo", "London", "Dublin"}
    assert asia_and_europe.shards == ["asia", "europe"]

    # the Report class uses a simple integer primary key.  So across two
    # databases, a primary key will be repeated.  The "identity_token" tracks
    # in memory that these two identical primary keys are local to different
    # databases.
    print("\nthe reports of New York and Tokyo: the same kind of primary key on two shards")
    for name, report in (("New York", newyork_report), ("Tokyo", tokyo_report)):
        print("   %-8s inspect(report).identity_key == %r" % (name, inspect(report).identity_key))
    keys = sess.identity_keys(Report)
    print("   sess.identity_keys(Report) -> %s" % ", ".join(json.dumps(key.to_json()) for key in keys))
    assert newyork_report.key in keys and tokyo_report.key in keys

    # On a fresh daemon, as on SQLAlchemy's fresh databases, both are their shard's first
    # report: id 1 on north_america and id 1 on asia. Reports that other programs added
    # first would have taken those ids.
    if first_report_of_its_shard(sess, newyork_report) and first_report_of_its_shard(sess, tokyo_report):
        assert inspect(newyork_report).identity_key == (Report, (1,), "north_america")
        assert inspect(tokyo_report).identity_key == (Report, (1,), "asia")
        print("   both have id 1: two objects, told apart by the identity token (the shard)")
    else:
        assert inspect(newyork_report).identity_key == (Report, (newyork_report.id,), "north_america")
        assert inspect(tokyo_report).identity_key == (Report, (tokyo_report.id,), "asia")
        print("   ids %d and %d: other reports took the first ids of these shards before this example ran"
              % (newyork_report.id, tokyo_report.id))

    # the token representing the originating shard is also available directly

    assert inspect(newyork_report).identity_token == "north_america"
    assert inspect(tokyo_report).identity_token == "asia"

    print("\ndone: every assertion of SQLAlchemy's example held.")
