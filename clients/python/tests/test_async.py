"""`shardd.aio` against a real daemon: every call as a coroutine, requests of 16 tasks
pipelined on one connection, cancellation that leaves the connection in step, the change
feed as an async iterator."""

from __future__ import annotations

import asyncio
import re
import unittest
from typing import Any, Awaitable, Callable, List

from daemon import unique
from layout_case import LayoutCase

import shardd
import shardd.aio
from shardd import col, include
from shardd.aio.async_connection import AsyncFeed


class City(shardd.Model):
    __model__ = "WeatherLocation"
    id: int
    continent: str
    city: str


async def subscriptions(session: shardd.aio.AsyncSession) -> float:
    """The daemon's count of open subscriptions (its metrics)."""
    text = (await session.request("metrics"))["text"]
    match = re.search(r"^shardd_subscriptions (\S+)$", text, re.MULTILINE)
    assert match is not None, text
    return float(match.group(1))


class AsyncTests(LayoutCase):
    def run_async(self, test: Callable[[shardd.aio.AsyncSession], Awaitable[None]]) -> None:
        async def main() -> None:
            session = await self.daemon.async_session()
            try:
                await test(session)
            finally:
                await session.close()
        asyncio.run(main())

    def test_every_call(self) -> None:
        async def test(s: shardd.aio.AsyncSession) -> None:
            self.assertTrue(await s.ping())
            self.assertEqual(await s.request("ping"), {"pong": True})
            self.assertEqual(s.server.protocol, 1)
            asia = await s.add("WeatherLocation", continent="Asia", city=unique())
            europe, south = await s.add_all("WeatherLocation", [{"continent": "Europe", "city": unique()},
                                                                {"continent": "South America", "city": unique()}])
            self.assertEqual([o.identity_token for o in (asia, europe, south)], ["asia", "europe", "south_america"])
            reports = await s.add_all("Report", [{"location_id": asia.id, "temperature": 90.0},
                                                 {"location_id": europe.id, "temperature": 60.0}])
            pinned = await s.add("Report", shard="south_america", location_id=south.id, temperature=None)
            london, osaka = await s.add_all([City(continent="Europe", city=unique()), City(continent="Asia", city=unique())])
            self.assertEqual((type(london), london.identity_token, osaka.identity_token), (City, "europe", "asia"))
            self.assertEqual(pinned.identity_token, "south_america")
            label = unique("label")
            committed = await s.commit(label=label)
            self.assertEqual(committed.shards, ["asia", "europe", "south_america"])
            self.assertIsNotNone(committed.txid)

            got = await s.get("WeatherLocation", asia.id, fresh=True, options=[include("reports")])
            assert got is not None
            self.assertEqual([r.key for r in got.reports], [reports[0].key])
            self.assertIsNone(await s.get("WeatherLocation", asia.id, shard="europe"))
            mine = s.query("Report").filter(col("location_id").in_([asia.id, europe.id, south.id]))
            everything = await mine.order_by("-temperature").all()
            self.assertEqual([o.temperature for o in everything], [90.0, 60.0, None])
            first = await mine.order_by("temperature").first()
            assert first is not None
            self.assertIsNone(first.temperature, "null sorts first ascending")
            self.assertEqual((await mine.filter(col("temperature") > 80).one()).key, reports[0].key)
            self.assertIsNone(await mine.filter(col("temperature") > 100).one_or_none())
            with self.assertRaises(shardd.NoResultFound):
                await mine.filter(col("temperature") > 100).one()
            with self.assertRaises(shardd.MultipleResultsFound):
                await mine.one()
            self.assertEqual(await mine.count(), 3)
            self.assertEqual((await mine.count_per_shard()).per_shard["asia"], 1)
            pages = [page async for page in mine.order_by("id").pages(2)]
            self.assertEqual([len(p) for p in pages], [2, 1])
            page = await mine.order_by("id").page(2)
            self.assertEqual(len(await mine.order_by("id").page(2, after=page.next)), 1)
            self.assertEqual(await mine.aggregate([("count", "*")]), [{"count": 3}])
            rows = await s.aggregate("Report", [("max", "temperature")], where=col("location_id") == asia.id)
            self.assertEqual(rows, [{"max_temperature": 90.0}])
            loaded = await s.load(europe, "reports")
            self.assertEqual([r.key for r in loaded], [reports[1].key])

            self.assertEqual(await mine.filter(col("temperature").isnot(None)).update(
                {"temperature": col("temperature") - 10}), 2)
            report = await s.refresh(reports[0])
            self.assertEqual(report.temperature, 80.0)
            await s.update(report, temperature=col("temperature") / 2)
            self.assertEqual(report.temperature, 40.0)
            await s.rollback()
            self.assertEqual((await s.refresh(report, with_for_update=True)).temperature, 90.0)
            await s.rollback()

            self.assertEqual(await s.identity_keys(), [], "rollback emptied the identity map")
            await s.get("WeatherLocation", asia.id, shard="asia")
            self.assertIn(asia.key, await s.identity_keys("WeatherLocation"))
            self.assertTrue(await s.expunge(asia))
            self.assertNotIn(asia.key, await s.identity_keys())
            await s.get("WeatherLocation", europe.id, shard="europe")
            self.assertEqual(await s.expunge_all(), 1)
            self.assertEqual(await s.identity_keys(), [])

            city = unique()
            transaction = await s.begin()
            self.assertEqual(transaction.shards, [])
            await s.add("WeatherLocation", continent="Europe", city=city)
            await s.commit()
            async with s.begin() as block:
                await s.add("WeatherLocation", continent="Europe", city=city)
            assert block.commit_result is not None
            self.assertEqual(block.commit_result.shards, ["europe"])
            with self.assertRaisesRegex(RuntimeError, "no"):
                async with s.begin():
                    await s.add("WeatherLocation", continent="Europe", city=city)
                    raise RuntimeError("no")
            self.assertEqual(await s.query("WeatherLocation").filter_by(city=city).count(), 2)

            await s.delete(pinned)
            await mine.filter(col("temperature") < 70).delete()
            await s.commit()
            self.assertEqual(await mine.count(), 1)
            self.assertTrue(await s.transaction_status(label))
            self.assertFalse(await s.transaction_status(unique("never")))
        self.run_async(test)

    def test_pipelining_from_16_tasks(self) -> None:
        async def test(s: shardd.aio.AsyncSession) -> None:
            locations = await s.add_all("WeatherLocation", [
                {"continent": ["Asia", "Europe", "North America", "South America"][i % 4], "city": unique()}
                for i in range(16)])
            await s.add_all("Report", [{"location_id": o.id, "temperature": float(i)} for i, o in enumerate(locations)])
            await s.commit()

            async def worker(index: int) -> List[Any]:
                mine = locations[index]
                seen = []
                for round in range(10):
                    got = await s.get("WeatherLocation", mine.id, shard=mine.identity_token, fresh=True)
                    assert got is not None
                    seen.append(got.key == mine.key and got.city == mine.city)
                    reports = await s.query("Report").filter_by(location_id=mine.id).set_shard(mine.identity_token).all()
                    seen.append([r.temperature for r in reports] == [float(index)])
                    seen.append(await s.query("WeatherLocation").filter_by(city=mine.city).count() == 1)
                return seen

            connection = s._connection
            tasks = [asyncio.ensure_future(worker(i)) for i in range(16)]
            await asyncio.sleep(0)
            self.assertEqual(len(connection._pending), 16, "all 16 first requests are in flight on the one connection")
            results = await asyncio.gather(*tasks)
            self.assertEqual(results, [[True] * 30] * 16, "every answer reached the task that asked")
        self.run_async(test)

    def test_cancellation_keeps_the_connection_in_step(self) -> None:
        async def test(s: shardd.aio.AsyncSession) -> None:
            locations = await s.add_all("WeatherLocation", [{"continent": "Europe", "city": unique()} for _ in range(16)])
            await s.commit()
            tasks = [asyncio.ensure_future(s.get("WeatherLocation", o.id, shard="europe", fresh=True)) for o in locations]
            await asyncio.sleep(0)
            for task in tasks[1::2]:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for index, (location, result) in enumerate(zip(locations, results)):
                if index % 2:
                    self.assertIsInstance(result, asyncio.CancelledError)
                else:
                    self.assertEqual(result.key, location.key, "answer %d went to its own request" % index)  # type: ignore[union-attr]

            # Cancelled after the request went out, while the daemon works on it: another
            # session holds the row's lock, so the update waits there until it lets go.
            location = await s.add("WeatherLocation", continent="Asia", city=unique())
            report = await s.add("Report", location_id=location.id, temperature=1.0)
            await s.commit()
            holder = await self.daemon.async_session()
            await holder.refresh(await holder.get("Report", report.id, shard="asia"), with_for_update=True)  # type: ignore[type-var]
            blocked = asyncio.ensure_future(s.update(report, temperature=2.0))
            await asyncio.sleep(0.3)
            self.assertFalse(blocked.done(), "the update waits for the lock")
            blocked.cancel()
            behind = asyncio.ensure_future(s.get("WeatherLocation", location.id, shard="asia", fresh=True))
            await asyncio.sleep(0.1)
            await holder.rollback()
            got = await behind
            self.assertEqual(got.key, location.key, "the cancelled update's answer was read and dropped")  # type: ignore[union-attr]
            self.assertEqual(report.temperature, 1.0, "the dropped answer did not reach the object")
            self.assertEqual((await s.refresh(report)).temperature, 2.0, "but the update ran")
            await s.rollback()
            await holder.close()
            for location in locations[:4]:
                got = await s.get("WeatherLocation", location.id, shard="europe", fresh=True)
                self.assertEqual(got.key, location.key)  # type: ignore[union-attr]
            self.assertTrue(await s.ping())

            # A cancelled write still happens on the daemon (the docs say: check with a read).
            city = unique()
            adding = asyncio.ensure_future(s.add("WeatherLocation", continent="Asia", city=city))
            await asyncio.sleep(0)
            adding.cancel()
            self.assertEqual(await s.query("WeatherLocation").filter_by(city=city).count(), 1)
            await s.rollback()

            # A cancelled subscribe: the daemon made the subscription; the client ends it.
            subscribing = asyncio.ensure_future(s.subscribe("Report"))
            await asyncio.sleep(0)
            subscribing.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await subscribing
            await s.ping()   # the unsubscribe goes out after the subscribe's answer
            self.assertEqual(await subscriptions(s), 0.0)
        self.run_async(test)

    def test_change_feed(self) -> None:
        async def test(s: shardd.aio.AsyncSession) -> None:
            writer = await self.daemon.async_session()
            try:
                location = await writer.add("WeatherLocation", continent="Asia", city=unique())
                await writer.commit()
                feed = await s.subscribe("Report", col("location_id") == location.id)
                self.assertEqual(await subscriptions(s), 1.0)
                async with writer.begin():
                    report = await writer.add("Report", location_id=location.id, temperature=70.0)
                await writer.update(report, temperature=71.0)
                await writer.delete(report)
                await writer.commit()
                seen = []
                async for event in feed:
                    seen.append((event.kind, event.key, event.object.temperature))
                    if len(seen) == 3:
                        break
                self.assertEqual(seen, [("insert", report.key, 70.0), ("update", report.key, 71.0),
                                        ("delete", report.key, 71.0)])
                self.assertIsNone(await feed.poll(0.2), "nothing more")
                await feed.close()
                self.assertEqual(await subscriptions(s), 0.0)
                await writer.add("Report", location_id=location.id, temperature=1.0)
                await writer.commit()
                self.assertIsNone(await feed.poll(0.2), "closed: nothing more")
                with self.assertRaises(StopAsyncIteration):
                    await feed.__anext__()
            finally:
                await writer.close()
        self.run_async(test)

    def test_a_feed_not_read_overflows_in_the_client(self) -> None:
        async def test(s: shardd.aio.AsyncSession) -> None:
            limit = AsyncFeed.LIMIT
            AsyncFeed.LIMIT = 5   # the client's bound, lowered so that a few rows overflow it
            try:
                location = await s.add("WeatherLocation", continent="Europe", city=unique())
                await s.commit()
                feed = await s.subscribe("Report", {"location_id": location.id})
                writer = await self.daemon.async_session()
                await writer.add_all("Report", [{"location_id": location.id, "temperature": float(i)} for i in range(12)])
                await writer.commit()
                await writer.close()
                for _ in range(200):
                    if feed._feed.ended is not None:
                        break
                    await s.ping()
                    await asyncio.sleep(0.01)
                temperatures = []
                with self.assertRaises(shardd.SubscriptionOverflow) as raised:
                    while True:
                        event = await feed.poll(5)
                        assert event is not None, "the feed neither overflowed nor gave events"
                        temperatures.append(event.object.temperature)
                self.assertEqual(temperatures, [0.0, 1.0, 2.0, 3.0, 4.0], "the events kept come first")
                self.assertEqual(raised.exception.subscription, feed.subscription)
                self.assertIn("5 events were not read", str(raised.exception))
                await s.ping()
                self.assertEqual(await subscriptions(s), 0.0, "the client unsubscribed the feed it ended")
            finally:
                AsyncFeed.LIMIT = limit
        self.run_async(test)


class SQLiteAsyncTests(AsyncTests):
    layout = "sqlite"


class MixedAsyncTests(AsyncTests):
    layout = "mixed"


del AsyncTests

if __name__ == "__main__":
    unittest.main()
