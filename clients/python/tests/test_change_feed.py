"""The change feed on a blocking `Session` (protocol.md 12): events of other sessions'
commits, in order, filtered, with `matches` and `txid`; none for rolled-back work; kept
while the session waits for its own answers; the daemon's overflow."""

from __future__ import annotations

import time
import unittest
from typing import Any, List

from daemon import unique
from layout_case import LayoutCase

import shardd
from shardd import any_, col


class ChangeFeedTests(LayoutCase):
    def setUp(self) -> None:
        self.session = self.daemon.session()
        self.writer = self.daemon.session()
        self.addCleanup(self.session.close)
        self.addCleanup(self.writer.close)
        self.location = self.writer.add("WeatherLocation", continent="Asia", city=unique())
        self.writer.commit()

    def events(self, feed: shardd.Subscription[Any], count: int) -> List[shardd.Event[Any]]:
        found: List[shardd.Event[Any]] = []
        for _ in range(count):
            event = feed.poll(10)
            self.assertIsNotNone(event, "expected %d events, got %d: %r" % (count, len(found), found))
            assert event is not None
            found.append(event)
        return found

    def test_inserts_updates_and_deletes(self) -> None:
        with self.session.subscribe("Report", col("location_id") == self.location.id) as feed:
            first, second = self.writer.add_all("Report", [{"location_id": self.location.id, "temperature": 1.0},
                                                           {"location_id": self.location.id, "temperature": 2.0}])
            self.writer.update(first, temperature=10.0)
            self.writer.delete(second)
            self.writer.commit()
            events = self.events(feed, 4)
            self.assertEqual([(e.kind, e.key, e.object.temperature) for e in events],
                             [("insert", first.key, 1.0), ("insert", second.key, 2.0),
                              ("update", first.key, 10.0), ("delete", second.key, 2.0)])
            self.assertEqual([e.subscription for e in events], [feed.subscription] * 4)
            seqs = [e.seq for e in events]
            self.assertEqual(seqs, sorted(set(seqs)), "seq strictly increases")
            self.assertEqual(events[0].object.key, first.key)
            self.assertIsNone(events[0].txid, "one shard: no txid")
            self.assertIsNone(feed.poll(0.2))

    def test_a_filtered_update_says_whether_it_still_matches(self) -> None:
        report = self.writer.add("Report", location_id=self.location.id, temperature=85.0)
        self.writer.commit()
        hot = (col("temperature") >= 80) & (col("location_id") == self.location.id)
        with self.session.subscribe("Report", hot) as feed:
            self.writer.update(report, temperature=70.0)
            self.writer.commit()
            self.writer.update(report, temperature=75.0)    # matched neither before nor after
            self.writer.commit()
            self.writer.update(report, temperature=90.0)
            self.writer.add("Report", location_id=self.location.id, temperature=50.0)
            self.writer.commit()
            events = self.events(feed, 2)
            self.assertEqual([(e.kind, e.object.temperature, e.matches) for e in events],
                             [("update", 70.0, False), ("update", 90.0, True)])
            self.assertIsNone(feed.poll(0.2))

    def test_rolled_back_work_tells_nothing(self) -> None:
        with self.session.subscribe("Report", {"location_id": self.location.id}) as feed:
            self.writer.add("Report", location_id=self.location.id, temperature=1.0)
            self.writer.rollback()
            self.assertIsNone(feed.poll(0.3))

    def test_only_the_kinds_asked_for(self) -> None:
        with self.session.subscribe("Report", {"location_id": self.location.id}, events=["delete"]) as feed:
            report = self.writer.add("Report", location_id=self.location.id, temperature=1.0)
            self.writer.commit()
            self.writer.delete(report)
            self.writer.commit()
            (event,) = self.events(feed, 1)
            self.assertEqual((event.kind, event.key), ("delete", report.key))

    def test_a_commit_across_shards_has_a_txid(self) -> None:
        europe = self.writer.add("WeatherLocation", continent="Europe", city=unique())
        self.writer.commit()
        with self.session.subscribe("Report", col("location_id").in_([self.location.id, europe.id])) as feed:
            self.writer.add("Report", location_id=self.location.id, temperature=1.0)
            self.writer.add("Report", location_id=europe.id, temperature=2.0)
            committed = self.writer.commit()
            events = self.events(feed, 2)
            self.assertEqual({e.object.identity_token for e in events}, {"asia", "europe"})
            self.assertEqual({e.txid for e in events}, {committed.txid})
            self.assertIsNotNone(committed.txid)

    def test_events_are_kept_while_the_session_waits_for_answers(self) -> None:
        with self.session.subscribe("Report", {"location_id": self.location.id}) as feed:
            self.writer.add_all("Report", [{"location_id": self.location.id, "temperature": 1.0},
                                           {"location_id": self.location.id, "temperature": 2.0}])
            self.writer.commit()
            deadline = time.monotonic() + 10
            while len(feed._feed.events) < 2 and time.monotonic() < deadline:
                self.assertEqual(self.session.query("Report").filter_by(location_id=self.location.id).count(), 2)
            self.assertEqual(len(feed._feed.events), 2, "the events read while waiting for the counts")
            self.assertEqual([e.object.temperature for e in self.events(feed, 2)], [1.0, 2.0])

    def test_close_ends_the_subscription(self) -> None:
        feed = self.session.subscribe("Report", {"location_id": self.location.id})
        self.writer.add("Report", location_id=self.location.id, temperature=1.0)
        self.writer.commit()
        feed.close()
        self.writer.add("Report", location_id=self.location.id, temperature=2.0)
        self.writer.commit()
        self.assertEqual(list(feed), [], "closed: the iteration ends, kept events are dropped")
        self.assertIsNone(feed.poll(0.2))
        self.assertEqual(self.session.request("unsubscribe", subscription=feed.subscription), {"unsubscribed": False},
                         "the daemon ended it too")

    def test_any_and_has_are_refused(self) -> None:
        # docs/protocol.md: an event is decided on the changed row alone.
        with self.assertRaisesRegex(shardd.BadRequest, "any or has"):
            self.session.subscribe("WeatherLocation", any_("reports"))
        self.assertTrue(self.session.ping())


class SQLiteChangeFeedTests(ChangeFeedTests):
    layout = "sqlite"


class MixedChangeFeedTests(ChangeFeedTests):
    layout = "mixed"


del ChangeFeedTests


class DaemonOverflowTests(LayoutCase):
    """A subscriber that reads nothing while 25,000 rows change: the daemon's bound (10,000
    waiting events, plus what the socket holds) ends the subscription with an overflow
    event, delivered after the events that fit."""

    layout = "sqlite"

    def test_overflow(self) -> None:
        with self.daemon.session() as subscriber, self.daemon.session() as writer:
            location = writer.add("WeatherLocation", continent="Europe", city=unique())
            writer.commit()
            feed = subscriber.subscribe("Report", {"location_id": location.id})
            for _ in range(10):
                writer.add_all("Report", [{"location_id": location.id, "temperature": 1.0}] * 2500)
            writer.commit()
            received = 0
            with self.assertRaises(shardd.SubscriptionOverflow) as raised:
                while True:
                    event = feed.poll(10)
                    self.assertIsNotNone(event, "no overflow after %d events" % received)
                    received += 1
            self.assertEqual(raised.exception.subscription, feed.subscription)
            self.assertIn("daemon's bound", str(raised.exception))
            self.assertGreaterEqual(received, 10000)
            self.assertLess(received, 25000)
            self.assertTrue(subscriber.ping(), "the session goes on")
            with subscriber.subscribe("Report", {"location_id": location.id}) as again:
                writer.add("Report", location_id=location.id, temperature=2.0)
                writer.commit()
                self.assertEqual(again.poll(10).object.temperature, 2.0)  # type: ignore[union-attr]


if __name__ == "__main__":
    unittest.main()
