"""Every call of `Session` against a real daemon, on the SQLite layout and the mixed one."""

from __future__ import annotations

import signal
import unittest
from typing import Any, List

from daemon import unique
from layout_case import LayoutCase

import shardd
from shardd import col, include


class SessionTests(LayoutCase):
    """The calls, each checked against what the daemon stores (a second session reads it back)."""

    def setUp(self) -> None:
        self.session = self.daemon.session()
        self.addCleanup(self.session.close)

    def locations(self, *continents: str) -> List[Any]:
        """New committed locations, one per continent, with unique cities."""
        added = self.session.add_all("WeatherLocation", [{"continent": c, "city": unique()} for c in continents])
        self.session.commit()
        return added

    def test_hello(self) -> None:
        server = self.session.server
        self.assertEqual(server.server, "shardd")
        self.assertEqual(server.protocol, 1)
        self.assertEqual(server.shards, ["north_america", "asia", "europe", "south_america"])
        self.assertEqual(server.models, ["WeatherLocation", "Report"])
        self.assertEqual(self.session.socket, self.daemon.socket)
        self.assertTrue(self.session.ping())
        self.assertEqual(self.session.request("ping"), {"pong": True})

    def test_add_and_get(self) -> None:
        city = unique()
        tokyo = self.session.add("WeatherLocation", continent="Asia", city=city)
        self.assertEqual(tokyo.city, city)
        self.assertEqual(tokyo["continent"], "Asia")
        self.assertEqual(tokyo.key, ("WeatherLocation", (tokyo.id,), "asia"))
        self.assertEqual(tokyo.identity_token, "asia")
        self.assertIsInstance(tokyo.key, shardd.IdentityKey)
        report = self.session.add("Report", location_id=tokyo.id, temperature=80.0)
        self.assertEqual(report.identity_token, "asia", "the shard chooser follows the parent")
        self.assertIsNone(report.report_time)
        self.session.commit()

        other = self.daemon.session()
        self.addCleanup(other.close)
        found = other.get("WeatherLocation", tokyo.id)
        assert found is not None
        self.assertEqual(found.key, tokyo.key)
        self.assertEqual(found.to_dict(), tokyo.to_dict())
        self.assertIsNone(other.get("WeatherLocation", tokyo.id, shard="europe"))
        self.assertIsNone(other.get("WeatherLocation", 10 ** 12))
        pinned = other.get("Report", report.id, shard="asia", fresh=True)
        assert pinned is not None
        self.assertEqual(pinned.temperature, 80.0)
        with_reports = other.get("WeatherLocation", tokyo.id, fresh=True, options=[include("reports")])
        assert with_reports is not None
        self.assertEqual([r.key for r in with_reports.reports], [report.key])
        # A composite-key form is a tuple; a one-column key may be one too.
        self.assertEqual(other.get("WeatherLocation", (tokyo.id,), shard="asia").key, tokyo.key)  # type: ignore[union-attr]

    def test_add_on_a_named_shard_and_add_all(self) -> None:
        rows = [{"continent": "Europe", "city": unique()}, {"continent": "South America", "city": unique()}]
        added = self.session.add_all("WeatherLocation", rows)
        self.assertEqual([o.city for o in added], [r["city"] for r in rows], "objects come back in input order")
        self.assertEqual([o.identity_token for o in added], ["europe", "south_america"])
        # Reports of a location on another shard than the chooser's, when named.
        pinned = self.session.add("Report", shard="europe", location_id=added[0].id, temperature=1.0)
        self.assertEqual(pinned.identity_token, "europe")
        self.session.rollback()
        self.assertEqual(self.session.query("WeatherLocation").filter(col("city").in_([r["city"] for r in rows])).count(), 0)

    def test_query_building_and_reading(self) -> None:
        na, asia, europe = self.locations("North America", "Asia", "Europe")
        cities = [na.city, asia.city, europe.city]
        mine = self.session.query("WeatherLocation").filter(col("city").in_(cities))
        everything = mine.order_by("city").all()
        self.assertEqual([o.city for o in everything], sorted(cities))
        self.assertEqual(everything.shards, ["north_america", "asia", "europe", "south_america"])
        self.assertEqual([o.city for o in mine.order_by("-city")], sorted(cities, reverse=True))
        self.assertEqual([o.city for o in mine.order_by(col("city").desc()).limit(2).all()], sorted(cities, reverse=True)[:2])
        self.assertEqual([o.city for o in mine.order_by("city").offset(1).limit(1).all()], [sorted(cities)[1]])
        # filter_by and the execute chooser: the shard key narrows the shards asked.
        by_continent = mine.filter_by(continent="Asia").all()
        self.assertEqual([o.key for o in by_continent], [asia.key])
        self.assertEqual(by_continent.shards, ["asia"])
        pinned = mine.set_shard("north_america").all()
        self.assertEqual(([o.key for o in pinned], pinned.shards), ([na.key], ["north_america"]))
        two = mine.set_shards(["asia", "europe"]).order_by("id").all()
        self.assertEqual(({o.key for o in two}, two.shards), ({asia.key, europe.key}, ["asia", "europe"]))
        # The query is generative: the filters above did not change `mine`.
        self.assertEqual(mine.count(), 3)
        counted = mine.count_per_shard()
        self.assertEqual((counted.count, counted.per_shard["asia"], counted.per_shard["europe"]), (3, 1, 1))
        first = mine.order_by("city").first()
        assert first is not None
        self.assertEqual(first.city, sorted(cities)[0])
        self.assertIsNone(mine.filter(col("city") == unique()).first())
        self.assertEqual(mine.filter_by(city=asia.city).one().key, asia.key)
        self.assertIsNone(mine.filter_by(city=unique()).one_or_none())
        with self.assertRaises(shardd.NoResultFound):
            mine.filter_by(city=unique()).one()
        with self.assertRaises(shardd.MultipleResultsFound):
            mine.one()
        self.assertEqual(sorted(o.city for o in mine), sorted(cities))

    def test_include_loads_relationships_as_attributes(self) -> None:
        (asia,) = self.locations("Asia")
        reports = self.session.add_all("Report", [{"location_id": asia.id, "temperature": t} for t in (70.0, 71.0)])
        self.session.commit()
        found = self.session.query("WeatherLocation").filter_by(city=asia.city).options(include("reports")).one()
        self.assertEqual(sorted(r.key for r in found.reports), sorted(r.key for r in reports))
        self.assertNotIn("reports", found.to_dict(), "related objects are not columns")
        report = self.session.query("Report").filter_by(location_id=asia.id).set_shard("asia").options(
            include("location")).order_by("id").first()
        assert report is not None
        self.assertEqual(report.location.key, asia.key)
        with self.assertRaisesRegex(AttributeError, "include"):
            self.session.query("Report").filter_by(location_id=asia.id).set_shard("asia").first().location  # type: ignore[union-attr]

    def test_load(self) -> None:
        (europe,) = self.locations("Europe")
        report = self.session.add("Report", location_id=europe.id, temperature=12.5)
        self.session.commit()
        loaded = self.session.load(europe, "reports")
        self.assertEqual([r.key for r in loaded], [report.key])
        self.assertEqual(europe.reports[0].key, report.key, "load sets the attribute too")
        self.assertEqual(self.session.load(report, "location").key, europe.key)

    def test_query_update_and_delete(self) -> None:
        (asia, europe) = self.locations("Asia", "Europe")
        self.session.add_all("Report", [{"location_id": asia.id, "temperature": 10.0},
                                        {"location_id": europe.id, "temperature": 20.0}])
        self.session.commit()
        reports = self.session.query("Report").filter(col("location_id").in_([asia.id, europe.id]))
        self.assertEqual(reports.update({"temperature": col("temperature") + 1.5}), 2)
        self.assertEqual(sorted(r.temperature for r in reports.all()), [11.5, 21.5])
        self.assertEqual(reports.filter(col("temperature") > 20).update({"temperature": None}), 1)
        self.session.commit()
        other = self.daemon.session()
        self.addCleanup(other.close)
        self.assertEqual(sorted((r.temperature is None) for r in other.query("Report").filter(
            col("location_id").in_([asia.id, europe.id])).all()), [False, True])
        self.assertEqual(reports.filter(col("temperature").is_(None)).delete(), 1)
        self.assertEqual(reports.count(), 1)
        self.session.commit()
        self.assertEqual(other.query("Report").filter(col("location_id").in_([asia.id, europe.id])).count(), 1)

    def test_query_refuses_what_the_op_would_ignore(self) -> None:
        reports = self.session.query("Report")
        with self.assertRaisesRegex(shardd.BadRequest, "limit"):
            reports.limit(3).update({"temperature": 1.0})
        with self.assertRaisesRegex(shardd.BadRequest, "order_by"):
            reports.order_by("id").delete()
        with self.assertRaisesRegex(shardd.BadRequest, "offset"):
            reports.offset(1).count()
        self.assertEqual(self.session.identity_keys("Report"), [], "nothing was sent")

    def test_pages(self) -> None:
        (asia, europe) = self.locations("Asia", "Europe")
        rows = [{"location_id": location.id, "temperature": float(t)}
                for location in (asia, europe) for t in range(4)]
        self.session.add_all("Report", rows)
        self.session.commit()
        query = self.session.query("Report").filter(col("location_id").in_([asia.id, europe.id])).order_by("-temperature")
        pages = list(query.pages(3))
        self.assertEqual([len(page) for page in pages], [3, 3, 2])
        self.assertEqual([page.next is None for page in pages], [False, False, True])
        self.assertEqual([o.key for page in pages for o in page], [o.key for o in query.all()],
                         "the pages are the rows of the unlimited query, in its order, each once")
        first = query.page(5)
        second = query.page(5, after=first.next)
        self.assertEqual(len(first) + len(second), 8)
        self.assertIsNone(second.next)
        with self.assertRaises(shardd.BadRequest):
            self.session.query("Report").order_by("id").page(5, after=first.next)

    def test_aggregate(self) -> None:
        (asia, europe) = self.locations("Asia", "Europe")
        self.session.add_all("Report", [{"location_id": asia.id, "temperature": 10.0},
                                        {"location_id": asia.id, "temperature": 20.0},
                                        {"location_id": europe.id, "temperature": 40.0}])
        self.session.commit()
        mine = col("location_id").in_([asia.id, europe.id])
        rows = self.session.aggregate("Report", [("avg", "temperature"), ("count", "*"), ("max", "temperature", "hottest")],
                                      where=mine, group_by=["location_id"], order_by=["-hottest"])
        self.assertEqual(rows, [{"location_id": europe.id, "avg_temperature": 40.0, "count": 1, "hottest": 40.0},
                                {"location_id": asia.id, "avg_temperature": 15.0, "count": 2, "hottest": 20.0}])
        self.assertEqual(rows.shards, ["asia", "europe"], "the parents are in the identity map: their shards only")
        total = self.session.query("Report").filter(mine).aggregate([("sum", "temperature")])
        self.assertEqual(total, [{"sum_temperature": 70.0}])
        having = self.session.aggregate("Report", [("count", "*")], where=mine, group_by=["location_id"],
                                        having=col("count") > 1, shard="asia")
        self.assertEqual((having, having.shards), ([{"location_id": asia.id, "count": 2}], ["asia"]))

    def test_update_refresh_and_delete_objects(self) -> None:
        (asia,) = self.locations("Asia")
        report = self.session.add("Report", location_id=asia.id, temperature=50.0)
        self.session.commit()
        same = self.session.update(report, temperature=col("temperature") * 2)
        self.assertIs(same, report)
        self.assertEqual(report.temperature, 100.0, "the object has the value the shard computed")
        self.session.update(report, {"temperature": 42.0})
        self.assertEqual(report.temperature, 42.0)
        self.session.commit()

        other = self.daemon.session()
        self.addCleanup(other.close)
        theirs = other.get("Report", report.id, shard="asia")
        assert theirs is not None
        other.update(theirs, temperature=7.0)
        other.commit()
        self.assertEqual(self.session.refresh(report).temperature, 7.0)
        self.assertEqual(report.temperature, 7.0, "refresh reads into the object")
        locked = self.session.refresh(report, with_for_update=True)
        self.assertEqual(locked.temperature, 7.0)
        self.session.rollback()

        self.session.delete(report)
        self.session.commit()
        self.assertIsNone(other.get("Report", report.id, shard="asia", fresh=True))
        with self.assertRaises(shardd.NotFound):
            self.session.delete(report)
        with self.assertRaises(shardd.NotFound):
            self.session.refresh(report)

    def test_commit_rollback_and_begin(self) -> None:
        other = self.daemon.session()
        self.addCleanup(other.close)
        city = unique()
        self.session.add("WeatherLocation", continent="Asia", city=city)
        self.assertEqual(other.query("WeatherLocation").filter_by(city=city).count(), 0, "not committed yet")
        self.assertEqual(self.session.rollback(), ["asia"])
        self.assertEqual(self.session.identity_keys(), [], "rollback empties the identity map")
        self.session.commit()
        self.assertEqual(other.query("WeatherLocation").filter_by(city=city).count(), 0)

        label = unique("label")
        self.session.add("WeatherLocation", continent="Asia", city=city)
        self.session.add("WeatherLocation", continent="Europe", city=city)
        committed = self.session.commit(label=label)
        self.assertEqual(committed.shards, ["asia", "europe"])
        self.assertIsNotNone(committed.txid, "a commit across shards has a txid")
        self.assertEqual(committed.pending, [])
        self.assertTrue(self.session.transaction_status(label))
        self.assertFalse(self.session.transaction_status(unique("never")))
        self.assertEqual(other.query("WeatherLocation").filter_by(city=city).count(), 2)

        with self.session.begin() as transaction:
            self.assertEqual(transaction.shards, [])
            self.session.add("WeatherLocation", continent="Europe", city=city)
            self.assertEqual(self.session.query("WeatherLocation").filter_by(city=city).count(), 3,
                             "reads in the transaction see its writes")
        assert transaction.commit_result is not None
        self.assertEqual(transaction.commit_result.shards, ["europe"])
        self.assertEqual(other.query("WeatherLocation").filter_by(city=city).count(), 3)

        with self.assertRaisesRegex(RuntimeError, "changed my mind"):
            with self.session.begin():
                self.session.add("WeatherLocation", continent="Europe", city=city)
                raise RuntimeError("changed my mind")
        self.assertEqual(other.query("WeatherLocation").filter_by(city=city).count(), 3, "the block rolled back")

    def test_identity_map_calls(self) -> None:
        (asia, europe) = self.locations("Asia", "Europe")
        fresh = self.daemon.session()
        self.addCleanup(fresh.close)
        self.assertEqual(fresh.identity_keys(), [])
        read = fresh.query("WeatherLocation").filter(col("id").in_([asia.id, europe.id])).order_by("id").all()
        self.assertEqual(sorted(fresh.identity_keys("WeatherLocation")), sorted([asia.key, europe.key]))
        self.assertTrue(fresh.expunge(read[0]))
        self.assertFalse(fresh.expunge(read[0].key), "already gone")
        self.assertEqual(fresh.identity_keys(), [read[1].key])
        self.assertEqual(fresh.expunge_all(), 1)
        self.assertEqual(fresh.identity_keys(), [])
        self.assertTrue(fresh.expunge(("WeatherLocation", asia.id, "asia")) is False)

    def test_an_interrupted_request_ends_the_connection(self) -> None:
        # A blocking call interrupted (Ctrl-C) between sending and reading would leave its
        # answer to be taken for the next request's: the connection ends instead.
        (asia,) = self.locations("Asia")
        report = self.session.add("Report", location_id=asia.id, temperature=1.0)
        self.session.commit()
        self.session.refresh(report, with_for_update=True)   # the victim's update waits for this lock
        victim = self.daemon.session()
        self.addCleanup(victim.close)
        theirs = victim.get("Report", report.id, shard="asia")
        assert theirs is not None

        def interrupt(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            with self.assertRaises(KeyboardInterrupt):
                victim.update(theirs, temperature=5.0)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        with self.assertRaises(shardd.ConnectionLost) as lost:
            victim.ping()
        self.assertIn("interrupted", str(lost.exception))
        self.session.rollback()
        self.assertEqual(self.session.add_all("Report", []), [])

    def test_closing_the_session_rolls_back(self) -> None:
        city = unique()
        with self.daemon.session() as doomed:
            doomed.add("WeatherLocation", continent="Europe", city=city)
        with self.assertRaises(shardd.ConnectionLost) as lost:
            doomed.ping()
        self.assertIn(self.daemon.socket, str(lost.exception))
        self.assertEqual(self.session.query("WeatherLocation").filter_by(city=city).count(), 0)

    def test_admin_ops_through_request(self) -> None:
        stats = self.session.request("stats")
        self.assertIn("requests", stats)
        shards = self.session.request("shards")["shards"]
        backends = {s["name"]: s["backend"] for s in shards}
        expected = "postgres" if self.layout == "mixed" else "sqlite"
        self.assertEqual((backends["north_america"], backends["asia"]), ("sqlite", expected))


class SQLiteSessionTests(SessionTests):
    layout = "sqlite"


class MixedSessionTests(SessionTests):
    layout = "mixed"


del SessionTests  # only the two layouts run

if __name__ == "__main__":
    unittest.main()
