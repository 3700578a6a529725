"""Conditions and computed values: their protocol form, and what the daemon answers for
them on both layouts (any/has included, and the shards they narrow to)."""

from __future__ import annotations

import math
import unittest
from typing import Any, List

from daemon import unique
from layout_case import LayoutCase

import shardd
from shardd import and_, any_, col, has, not_, now, or_, rel


class ProtocolFormTests(unittest.TestCase):
    """What each builder sends (protocol.md 7); no daemon needed to know the JSON."""

    def test_comparisons(self) -> None:
        t = col("temperature")
        self.assertEqual((t >= 80).to_json(), [">=", "temperature", 80])
        self.assertEqual((t > 1.5).to_json(), [">", "temperature", 1.5])
        self.assertEqual((t < 0).to_json(), ["<", "temperature", 0])
        self.assertEqual((t <= 0).to_json(), ["<=", "temperature", 0])
        self.assertEqual((t == 3).to_json(), ["=", "temperature", 3])
        self.assertEqual((t != 3).to_json(), ["!=", "temperature", 3])
        self.assertEqual((t == None).to_json(), ["is_null", "temperature"])  # noqa: E711 (SQLAlchemy's idiom)
        self.assertEqual((t != None).to_json(), ["not_null", "temperature"])  # noqa: E711
        self.assertEqual(t.is_(None).to_json(), ["is_null", "temperature"])
        self.assertEqual(t.isnot(None).to_json(), ["not_null", "temperature"])
        self.assertEqual(t.is_not(None).to_json(), ["not_null", "temperature"])
        self.assertEqual(col("continent").in_(["Asia", "Europe"]).to_json(), ["in", "continent", ["Asia", "Europe"]])
        self.assertEqual(col("id").not_in((1, 2)).to_json(), ["not_in", "id", [1, 2]])
        self.assertEqual(t.between(60, 80).to_json(), ["between", "temperature", 60, 80])
        self.assertEqual(col("city").like("T%").to_json(), ["like", "city", "T%"])
        self.assertEqual(col("city").startswith("To").to_json(), ["starts_with", "city", "To"])

    def test_combinations(self) -> None:
        a, b, c = col("a") == 1, col("b") == 2, col("c") == 3
        self.assertEqual((a & b & c).to_json(), ["and", ["=", "a", 1], ["=", "b", 2], ["=", "c", 3]])
        self.assertEqual((a | b | c).to_json(), ["or", ["=", "a", 1], ["=", "b", 2], ["=", "c", 3]])
        self.assertEqual((~a).to_json(), ["not", ["=", "a", 1]])
        self.assertEqual(((a | b) & ~c).to_json(), ["and", ["or", ["=", "a", 1], ["=", "b", 2]], ["not", ["=", "c", 3]]])
        self.assertEqual(and_(a, b).to_json(), (a & b).to_json())
        self.assertEqual(or_(a).to_json(), a.to_json())
        self.assertEqual(not_(a).to_json(), (~a).to_json())

    def test_related_rows(self) -> None:
        hot = col("temperature") > 90
        self.assertEqual(any_("reports", hot).to_json(), ["any", "reports", [">", "temperature", 90]])
        self.assertEqual(any_("reports").to_json(), ["any", "reports"])
        self.assertEqual(has("location", col("continent") == "Asia").to_json(),
                         ["has", "location", ["=", "continent", "Asia"]])
        self.assertEqual(has("location").to_json(), ["has", "location"])
        self.assertEqual(rel("reports").any(hot).to_json(), any_("reports", hot).to_json())
        self.assertEqual(rel("location").has(any_("reports", hot)).to_json(),
                         ["has", "location", ["any", "reports", [">", "temperature", 90]]])

    def test_computed_values(self) -> None:
        t = col("temperature")
        self.assertEqual((t + 1.5).to_json(), ["+", "temperature", 1.5])
        self.assertEqual((t - 1).to_json(), ["-", "temperature", 1])
        self.assertEqual((t * 2).to_json(), ["*", "temperature", 2])
        self.assertEqual((t / 2).to_json(), ["/", "temperature", 2])
        self.assertEqual((t * (t + 1)).to_json(), ["*", "temperature", ["+", "temperature", 1]])
        self.assertEqual(col("city").concat(" (old)").to_json(), ["concat", "city", " (old)"])
        self.assertEqual(now().to_json(), ["now"])
        with self.assertRaisesRegex(TypeError, "left side"):
            (t + 1) * 2
        with self.assertRaisesRegex(TypeError, "a column alone"):
            t + col("other")

    def test_misuse_is_refused_with_a_message(self) -> None:
        with self.assertRaisesRegex(TypeError, "&, | and ~"):
            bool(col("a") == 1)
        with self.assertRaisesRegex(TypeError, "&, | and ~"):
            (col("a") == 1) and (col("b") == 2)  # noqa: the mistake this guards against
        with self.assertRaisesRegex(TypeError, "no truth value"):
            bool(col("a"))
        with self.assertRaisesRegex(TypeError, "is_\\(\\) takes None"):
            col("a").is_(3)  # type: ignore[arg-type]
        with self.assertRaises(shardd.InvalidValue):
            col("a") == math.nan
        with self.assertRaises(TypeError):
            col("a") == object()


class ConditionTests(LayoutCase):
    """Each form against rows of the daemon: a fixture of 3 locations and their reports."""

    session: Any
    prefix: str
    asia: Any
    europe: Any
    south: Any

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.session = cls.running.daemon.session()  # type: ignore[union-attr]
        cls.prefix = unique("Cond")
        s = cls.session
        cls.asia, cls.europe, cls.south = s.add_all("WeatherLocation", [
            {"continent": "Asia", "city": cls.prefix + " Tokyo"},
            {"continent": "Europe", "city": cls.prefix + " London"},
            {"continent": "South America", "city": cls.prefix + " Quito"}])
        s.add_all("Report", [{"location_id": cls.asia.id, "temperature": 95.0},
                             {"location_id": cls.asia.id, "temperature": 60.0},
                             {"location_id": cls.europe.id, "temperature": 70.0},
                             {"location_id": cls.south.id, "temperature": None}])
        s.commit()
        s.expunge_all()  # so that the execute chooser does not narrow by the parents in the map

    @classmethod
    def tearDownClass(cls) -> None:
        cls.session.close()
        super().tearDownClass()

    def cities(self, condition: shardd.Condition) -> List[str]:
        mine = col("city").startswith(self.prefix)
        found = self.session.query("WeatherLocation").filter(mine, condition).order_by("city").all()
        return [o.city[len(self.prefix) + 1:] for o in found]

    def temperatures(self, condition: shardd.Condition) -> List[Any]:
        mine = col("location_id").in_([self.asia.id, self.europe.id, self.south.id])
        found = self.session.query("Report").filter(mine & condition).order_by("temperature").all()
        return [o.temperature for o in found]

    def test_each_comparison(self) -> None:
        t = col("temperature")
        self.assertEqual(self.temperatures(t >= 70), [70.0, 95.0])
        self.assertEqual(self.temperatures(t > 70), [95.0])
        self.assertEqual(self.temperatures(t < 70), [60.0])
        self.assertEqual(self.temperatures(t <= 70), [60.0, 70.0])
        self.assertEqual(self.temperatures(t == 70), [70.0])
        self.assertEqual(self.temperatures(t != 70), [60.0, 95.0], "null is neither equal nor unequal")
        self.assertEqual(self.temperatures(t.between(60, 70)), [60.0, 70.0])
        self.assertEqual(self.temperatures(t.in_([60, 95])), [60.0, 95.0])
        self.assertEqual(self.temperatures(t.not_in([60, 95])), [70.0])
        self.assertEqual(self.temperatures(t.is_(None)), [None])
        self.assertEqual(self.temperatures(t.isnot(None)), [60.0, 70.0, 95.0])
        self.assertEqual(self.cities(col("city").like("%o")), ["Quito", "Tokyo"])
        self.assertEqual(self.cities(col("city").like("%to")), ["Quito"], "LIKE is case-sensitive")
        self.assertEqual(self.cities(col("city").startswith(self.prefix + " L")), ["London"])

    def test_combinations(self) -> None:
        t = col("temperature")
        self.assertEqual(self.temperatures((t > 65) & (t < 90)), [70.0])
        self.assertEqual(self.temperatures((t < 65) | (t > 90)), [60.0, 95.0])
        self.assertEqual(self.temperatures(~(t > 65)), [60.0])
        self.assertEqual(self.cities(col("continent").in_(["Asia", "Europe"]) & ~(col("continent") == "Asia")), ["London"])

    def test_any_and_has(self) -> None:
        self.assertEqual(self.cities(any_("reports", col("temperature") > 90)), ["Tokyo"])
        self.assertEqual(self.cities(rel("reports").any(col("temperature") > 65)), ["London", "Tokyo"])
        self.assertEqual(self.cities(any_("reports")), ["London", "Quito", "Tokyo"])
        self.assertEqual(self.cities(~any_("reports", col("temperature").isnot(None))), ["Quito"])
        self.assertEqual(self.temperatures(has("location", col("continent") == "Europe")), [70.0])
        self.assertEqual(self.temperatures(has("location", any_("reports", col("temperature") > 90))), [60.0, 95.0],
                         "they nest")
        # The execute chooser narrows through has: a Report condition on its location's
        # continent asks that continent's shard only.
        narrowed = self.session.query("Report").filter(has("location", col("continent") == "Asia")).all()
        self.assertEqual(narrowed.shards, ["asia"])
        self.assertEqual(sorted(o.temperature for o in narrowed if o.location_id == self.asia.id), [60.0, 95.0])
        with self.assertRaises(shardd.BadRequest):
            self.session.query("WeatherLocation").filter(has("reports")).all()  # to-many takes any
        with self.assertRaises(shardd.UnknownRelationship):
            self.session.query("WeatherLocation").filter(any_("stations")).all()

    def test_computed_update(self) -> None:
        s = self.session
        reports = s.query("Report").filter(has("location", col("city") == self.prefix + " Tokyo"))
        self.assertEqual(reports.update({"temperature": col("temperature") + 1.5}), 2)
        self.assertEqual(sorted(o.temperature for o in reports.all()), [61.5, 96.5])
        self.assertEqual(reports.update({"temperature": col("temperature") * (col("temperature") - 96.5)}), 2)
        self.assertEqual(sorted(o.temperature for o in reports.all()), [-2152.5, 0.0])
        self.assertEqual(reports.update({"report_time": now()}), 2)
        times = {o.report_time for o in reports.all()}
        self.assertEqual(len(times), 1, "now() is one instant per request")
        self.assertRegex(times.pop(), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        cities = s.query("WeatherLocation").filter(col("city").startswith(self.prefix + " L"))
        self.assertEqual(cities.update({"city": col("city").concat(" (old)")}), 1)
        self.assertEqual(cities.one().city, self.prefix + " London (old)")
        with self.assertRaises(shardd.InvalidValue):
            s.query("Report").filter_by(location_id=self.asia.id).update({"temperature": col("temperature") / 0})
        with self.assertRaises(shardd.InvalidValue):
            cities.update({"city": col("city") + 1})
        s.rollback()
        self.assertEqual(self.temperatures(col("temperature") > 90), [95.0], "rolled back")

    def test_unknown_columns_are_the_daemons_error(self) -> None:
        with self.assertRaises(shardd.UnknownColumn) as raised:
            self.session.query("Report").filter(col("humidity") > 50).all()
        self.assertEqual(raised.exception.column, "humidity")
        self.assertEqual(raised.exception.code, "unknown_column")
        self.assertIn("humidity", raised.exception.message)
        with self.assertRaises(shardd.UnknownColumn):
            self.session.query("Report").order_by("-humidity").all()
        with self.assertRaises(shardd.UnknownColumn):
            self.session.query("Report").filter_by(humidity=1).count()
        with self.assertRaises(shardd.UnknownColumn):
            self.session.query("Report").filter_by(location_id=self.asia.id).update({"humidity": col("humidity") + 1})


class SQLiteConditionTests(ConditionTests):
    layout = "sqlite"


class MixedConditionTests(ConditionTests):
    layout = "mixed"


del ConditionTests

if __name__ == "__main__":
    unittest.main()
