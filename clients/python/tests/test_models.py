"""Declared model classes: accepted wherever a model name is, typed attributes (timestamps
as datetimes), identity keys that compare like SQLAlchemy's, related objects of their
declared classes, and objects that cannot be changed behind the daemon's back."""

from __future__ import annotations

import math
import unittest
from datetime import datetime, timedelta, timezone
from typing import List, Optional

from daemon import unique
from layout_case import LayoutCase

import shardd
from shardd import col, include


class WeatherLocation(shardd.Model):
    __model__ = "WeatherLocation"
    id: int
    continent: str
    city: str
    reports: List["Report"]


class Report(shardd.Model):   # __model__ defaults to the class's name
    id: int
    location_id: int
    temperature: Optional[float]
    report_time: Optional[datetime]
    location: Optional[WeatherLocation]


class Reading(shardd.Model):
    """A class of another name for the same model, with an __init__ of its own (as
    SQLAlchemy's example writes `Report(80.0)`)."""
    __model__ = "Report"
    temperature: Optional[float]

    def __init__(self, temperature: float, location_id: int) -> None:
        self.temperature = temperature
        self.location_id = location_id


class ClassTests(unittest.TestCase):
    def test_a_class_equals_its_model_name(self) -> None:
        self.assertEqual(Report.__model__, "Report")
        self.assertEqual(WeatherLocation.__model__, "WeatherLocation")
        key = shardd.IdentityKey("Report", (1,), "asia")
        self.assertEqual(key, (Report, (1,), "asia"), "as SQLAlchemy's inspect(obj).identity_key")
        self.assertEqual(key, ("Report", (1,), "asia"))
        self.assertNotEqual(key, (Report, (1,), "north_america"))
        self.assertNotEqual(key, (WeatherLocation, (1,), "asia"))
        self.assertEqual(hash(key), hash((Report, (1,), "asia")), "so sets and dicts of keys work with either")
        self.assertIn((Report, (1,), "asia"), {key})
        self.assertEqual(key.identity_token, "asia")
        self.assertEqual(key.to_json(), ["Report", [1], "asia"])

    def test_transient_objects(self) -> None:
        report = Report(location_id=1, temperature=80.0)
        report.temperature = 81.0
        self.assertEqual(report.to_dict(), {"location_id": 1, "temperature": 81.0})
        state = shardd.inspect(report)
        self.assertTrue(state.transient)
        self.assertIsNone(state.identity_key)
        with self.assertRaisesRegex(AttributeError, "transient"):
            report.key
        self.assertIn("transient", repr(report))

    def test_values_json_cannot_carry_are_refused_before_sending(self) -> None:
        with self.assertRaisesRegex(shardd.InvalidValue, "time zone"):
            col("report_time") > datetime(2026, 1, 1)
        with self.assertRaises(shardd.InvalidValue):
            col("temperature") > math.inf


class ModelTests(LayoutCase):
    def setUp(self) -> None:
        self.session = self.daemon.session()
        self.addCleanup(self.session.close)

    def test_declared_classes_everywhere(self) -> None:
        s = self.session
        tokyo = WeatherLocation(continent="Asia", city=unique())
        added = s.add(tokyo)
        self.assertIs(added, tokyo, "add makes the transient object persistent in place")
        self.assertEqual(tokyo.key, (WeatherLocation, (tokyo.id,), "asia"))
        moment = datetime(2026, 11, 21, 9, 30, 0, 250, tzinfo=timezone(timedelta(hours=9)))
        report = s.add(Report, location_id=tokyo.id, temperature=80.0, report_time=moment)
        self.assertIsInstance(report, Report)
        self.assertEqual(report.report_time, moment, "microseconds and the instant survive")
        self.assertEqual(report.report_time.tzinfo, timezone.utc)  # type: ignore[union-attr]
        reading = s.add(Reading(75.5, tokyo.id))
        self.assertIsInstance(reading, Reading)
        self.assertEqual((reading.key.model, reading.key.token, reading.temperature), ("Report", "asia", 75.5))
        both = s.add_all(Report, [{"location_id": tokyo.id, "temperature": 1.0}, Report(location_id=tokyo.id)])
        self.assertEqual([type(o) for o in both], [Report, Report])
        self.assertIsNone(both[1].temperature)
        s.commit()

        found = s.get(WeatherLocation, tokyo.id, options=[include("reports")])
        assert found is not None
        self.assertIsInstance(found, WeatherLocation)
        self.assertEqual({type(r) for r in found.reports}, {Report}, "related objects are of the declared class")
        self.assertEqual(len(found.reports), 4)
        hot = s.query(Report).filter(col("location_id") == tokyo.id, col("temperature") >= 80).options(
            include("location")).one()
        self.assertEqual(hot.key, report.key)
        self.assertIsInstance(hot.location, WeatherLocation)
        self.assertEqual(hot.location.city, tokyo.city)  # type: ignore[union-attr]
        self.assertEqual(s.query(Report).filter_by(location_id=tokyo.id).count(), 4)
        self.assertEqual(s.aggregate(Report, [("count", "*")], where={"location_id": tokyo.id}), [{"count": 4}])
        self.assertIn(report.key, s.identity_keys(Report))
        self.assertTrue(all(k.model == "Report" for k in s.identity_keys(Report)))
        s.expunge(report)
        self.assertNotIn(report.key, s.identity_keys(Report))
        with s.subscribe(Report, col("location_id") == tokyo.id) as feed:
            s.update(report, temperature=col("temperature") + 1)
            s.commit()
            event = feed.poll(10)
            assert event is not None
            self.assertIsInstance(event.object, Report)
            self.assertEqual(event.object.temperature, 81.0)
            self.assertEqual(event.object.report_time, moment)

    def test_persistent_objects_are_snapshots(self) -> None:
        location = self.session.add(WeatherLocation, continent="Europe", city=unique())
        with self.assertRaisesRegex(AttributeError, "session.update"):
            location.city = "Paris"
        with self.assertRaisesRegex(AttributeError, "no column or loaded relationship 'humidity'"):
            location.humidity  # type: ignore[attr-defined]
        with self.assertRaises(ValueError):
            self.session.add(location)
        self.assertEqual(self.session.update(location, city="Paris").city, "Paris")
        self.session.rollback()
        state = shardd.inspect(location)
        self.assertEqual((state.identity_key, state.identity_token, state.persistent),
                         (location.key, "europe", True))

    def test_objects_by_name_are_untyped_but_the_same(self) -> None:
        location = self.session.add("WeatherLocation", continent="Asia", city=unique())
        self.assertIsInstance(location, shardd.Object)
        self.assertEqual(location.key, (WeatherLocation, (location.id,), "asia"))
        self.assertIn('["WeatherLocation", [%d], "asia"]' % location.id, repr(location))
        report = self.session.add("Report", location_id=location.id,
                                  report_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
        self.assertEqual(report.report_time, "2026-01-02T03:04:05Z", "without a declared class, timestamps stay text")
        self.session.rollback()


class SQLiteModelTests(ModelTests):
    layout = "sqlite"


class MixedModelTests(ModelTests):
    layout = "mixed"


del ModelTests

if __name__ == "__main__":
    unittest.main()


class TimestampTextTests(unittest.TestCase):
    """The text a datetime is sent as: RFC 3339 in UTC, four-digit years (strftime's %Y on
    glibc wrote years before 1000 with fewer digits, which the daemon refuses)."""

    def test_years_before_1000_have_four_digits_and_read_back(self) -> None:
        from shardd.values import format_timestamp, parse_timestamp
        for moment in (datetime(999, 3, 4, 5, 6, 7, 89, tzinfo=timezone.utc),
                       datetime(1, 1, 1, tzinfo=timezone.utc),
                       datetime(2026, 11, 21, 9, 30, tzinfo=timezone(timedelta(hours=9)))):
            text = format_timestamp(moment)
            self.assertRegex(text, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
            self.assertEqual(parse_timestamp(text), moment)
        self.assertEqual(format_timestamp(datetime(999, 3, 4, tzinfo=timezone.utc)), "0999-03-04T00:00:00.000000Z")
