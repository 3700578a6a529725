#!/usr/bin/env python3
"""The benchmark's peer: SQLAlchemy's horizontal sharding (ShardedSession) on the weather
models, over the same shard files / databases as the daemon.

Run it with the virtual environment of scripts/peer/setup.sh:

    .venv-bench/bin/python scripts/peer/sqlalchemy_peer.py \\
        --shard north_america=sqlite:////abs/data/north_america.db --shard asia=sqlite:////abs/data/asia.db \\
        --shard europe=sqlite:////abs/data/europe.db --shard south_america=sqlite:////abs/data/south_america.db \\
        --workload get_shard_known --duration 5

A shard is `--shard NAME=URL` with a SQLAlchemy URL (`sqlite:///relative.db`,
`sqlite:////absolute.db`, `postgresql+psycopg2://user:password@host:port/db`); the order of
the arguments is the shard order (the order of "all shards"). The tables must exist: shardd
creates them (start it once on the same shards.conf); the peer never creates or alters a table,
and never adds a WeatherLocation (their ids come from the daemon's sequence).

Prints one JSON line: {"system": "sqlalchemy", "workload", "count", "seconds", "per_second",
"p50_us", "p99_us", "answer", "clients", "shards", ...}, like shardd_client.py, with the same
keys and rows (benchlib.py).

The choosers are equivalent to shards.conf's placement rules:
- shard chooser: a WeatherLocation by its continent (the map below, or --map); a Report with its
  parent location: the location's shard from this client's cache of locations already placed,
  else from the session's identity map, else looked up on each shard in order (like a get);
- identity chooser: the lazy-load parent's shard, else every shard in order;
- execute chooser: the shards implied by `continent ==` / `continent.in_()` on
  WeatherLocation, with and_ intersecting and or_ uniting (anything else on the path, e.g.
  not_, means all shards), as the daemon does; otherwise every shard.

Decisions (see also benchlib.py):
- A fresh Session per operation (`with Session() as session:`), the usual session-per-request
  pattern of an application; engines (and their connection pools) live as long as the client
  process. So every get reads the database, as shardd_client.py's gets do ("fresh": true).
- The engines keep SQLAlchemy's defaults (pool, no autocommit), as a typical application
  does: on PostgreSQL a read is BEGIN, SELECT, ROLLBACK (on return to the pool); on SQLite
  (pysqlite) a read runs outside a transaction and a write opens one lazily.
- report_time: SQLite shards hold INTEGER microseconds since 1970 (the daemon's STRICT tables),
  PostgreSQL shards TIMESTAMPTZ. A TypeDecorator maps both to timezone-aware datetimes, so the
  same model works on a mix of backends (BigInteger on SQLite, DateTime on PostgreSQL).
- ShardedSession concatenates the per-shard results of a query: (5) returns each shard's top
  10 (the answer reports all temperatures it returned, in that order), and (6) returns the
  shards' groups one shard after the other (correct here only because every location's
  reports live on the location's shard, so no group is split; the rows are not ordered).
- (3) gets a WeatherLocation (ids unique across shards, from the daemon's sequence). A
  Report's id is per shard, so a get of a Report without its shard finds several rows:
  SQLAlchemy raises MultipleResultsFound (counted as "ambiguous"), shardd ambiguous_identity.
- (7) flushes one batch per commit; SQLAlchemy's unit of work batches consecutive rows for the
  same shard into one executemany, so rows of randomly ordered locations give short runs
  (--sort-batch sorts each batch by location, for both systems).
"""
import os
import re
import sys
from datetime import timedelta, timezone

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import BenchError  # noqa: E402

try:
    import sqlalchemy
    from sqlalchemy import BigInteger, DateTime, Float, Integer, String, create_engine, func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, MultipleResultsFound, SQLAlchemyError
    from sqlalchemy.ext.horizontal_shard import ShardedSession
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, sessionmaker
    from sqlalchemy.orm.util import identity_key
    from sqlalchemy.sql import operators
    from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, Grouping
    from sqlalchemy.types import TypeDecorator
except ImportError as error:
    sys.exit("sqlalchemy_peer.py: %s; run scripts/peer/setup.sh and use .venv-bench/bin/python" % error)

if int(sqlalchemy.__version__.split(".")[0]) < 2:
    sys.exit("sqlalchemy_peer.py: SQLAlchemy %s found, 2.x needed; run scripts/peer/setup.sh and use "
             ".venv-bench/bin/python" % sqlalchemy.__version__)

SYSTEM = "sqlalchemy"


class MicrosTimestamp(TypeDecorator):
    """A timestamp: INTEGER microseconds since 1970 on SQLite (as shardd stores it),
    TIMESTAMPTZ on PostgreSQL; timezone-aware datetimes in Python (naive ones are UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return (value - benchlib.EPOCH) // timedelta(microseconds=1)

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return benchlib.EPOCH + timedelta(microseconds=value)


class Base(DeclarativeBase):
    pass


class WeatherLocation(Base):
    __tablename__ = "weather_locations"
    # The daemon hands out these ids (id = "sequence"); the peer only reads locations.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    continent: Mapped[str] = mapped_column(String, nullable=False)
    city: Mapped[str] = mapped_column(String, nullable=False)


class Report(Base):
    __tablename__ = "weather_reports"
    # id = "shard_local": each shard's own auto-increment (SQLite AUTOINCREMENT, PostgreSQL
    # identity column), so equal ids on different shards are normal.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[int] = mapped_column(Integer, nullable=False)
    temperature: Mapped[float] = mapped_column(Float, nullable=True)
    report_time = mapped_column(MicrosTimestamp, nullable=True)


CONTINENT_COLUMN = WeatherLocation.__table__.c.continent
LOCATIONS = WeatherLocation.__table__
REPORTS = Report.__table__


def make_engine(url, echo=False):
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise BenchError("not a SQLAlchemy URL: %r (%s)" % (url, error))
    if parsed.get_backend_name() == "sqlite":
        # SQLite would create a missing file: a mistyped path must not become an empty shard.
        if parsed.database and parsed.database != ":memory:" and not os.path.exists(parsed.database):
            raise BenchError("no SQLite file %s (from %s): give the daemon's shard files" % (parsed.database, url))
        # The daemon may hold a write lock for a moment: wait for it like any client would.
        return create_engine(url, echo=echo, connect_args={"timeout": 30})
    return create_engine(url, echo=echo)


class Peer:
    """One client's ShardedSession factory and its choosers."""

    def __init__(self, shard_urls, continent_map, echo=False):
        self.shard_names = list(shard_urls)
        self.engines = {name: make_engine(url, echo) for name, url in shard_urls.items()}
        self.continent_map = continent_map
        self.location_shard = {}  # location id -> shard: this client's cache of placed parents
        self.last_route = None
        self.Session = sessionmaker(class_=ShardedSession, shards=self.engines,
                                    shard_chooser=self.shard_chooser,
                                    identity_chooser=self.identity_chooser,
                                    execute_chooser=self.execute_chooser)

    def dispose(self):
        for engine in self.engines.values():
            engine.dispose()

    # -- shard chooser: where a new row goes ------------------------------------------------
    def shard_chooser(self, mapper, instance, clause=None):
        if isinstance(instance, WeatherLocation):
            shard = self.continent_map.get(instance.continent)
            if shard is None:
                raise BenchError("no shard for a WeatherLocation with continent %r" % instance.continent)
            return shard
        if isinstance(instance, Report):
            return self.parent_shard(instance)
        raise BenchError("no shard can be chosen for %r (mapper %s) without a row" % (instance, mapper))

    def parent_shard(self, report):
        location_id = report.location_id
        shard = self.location_shard.get(location_id)
        if shard is not None:
            return shard
        session = object_session(report)
        if session is not None:
            for name in self.shard_names:
                if identity_key(WeatherLocation, (location_id,), identity_token=name) in session.identity_map:
                    self.location_shard[location_id] = name
                    return name
        for name in self.shard_names:  # looked up like a get: every shard in order
            with self.engines[name].connect() as connection:
                if connection.execute(select(LOCATIONS.c.id).where(LOCATIONS.c.id == location_id)).first():
                    self.location_shard[location_id] = name
                    return name
        raise BenchError("no shard for a Report of location %r: no such location" % location_id)

    # -- identity chooser: where a primary key may be ---------------------------------------
    def identity_chooser(self, mapper, primary_key, *, lazy_loaded_from, **kw):
        if lazy_loaded_from is not None:
            return [lazy_loaded_from.identity_token]
        return self.shard_names

    # -- execute chooser: which shards a statement runs on ----------------------------------
    def execute_chooser(self, orm_context):
        shards = None
        where = getattr(orm_context.statement, "whereclause", None)
        if where is not None:
            shards = self.route(where)
        if shards is None:
            chosen = self.shard_names
        else:
            # No value maps to a shard (e.g. continent == 'Antarctica'): no row can have been
            # placed, so any one shard gives the right, empty answer (ShardedSession needs one).
            chosen = [n for n in self.shard_names if n in shards] or self.shard_names[:1]
        self.last_route = chosen
        return chosen

    def route(self, expression):
        """The set of shards an expression confines continent to, or None (no constraint)."""
        if isinstance(expression, Grouping):
            return self.route(expression.element)
        if isinstance(expression, BooleanClauseList):
            parts = [self.route(clause) for clause in expression.clauses]
            if expression.operator is operators.and_:
                constrained = [part for part in parts if part is not None]
                return set.intersection(*constrained) if constrained else None
            if expression.operator is operators.or_:
                return None if any(part is None for part in parts) else set().union(*parts)
            return None
        if isinstance(expression, BinaryExpression) and expression.operator in (operators.eq, operators.in_op):
            left, right = expression.left, expression.right
            if isinstance(left, BindParameter):
                left, right = right, left
            if not (isinstance(right, BindParameter) and hasattr(left, "shares_lineage")
                    and left.shares_lineage(CONTINENT_COLUMN)):
                return None
            value = right.effective_value
            values = value if expression.operator is operators.in_op else [value]
            return {self.continent_map[v] for v in values if v in self.continent_map}
        return None


def parse_shards(parser, items):
    shards = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not url:
            parser.error("--shard takes NAME=URL with NAME like [a-z][a-z0-9_]*, got %r" % item)
        if name in shards:
            parser.error("shard %r given twice" % name)
        shards[name] = url
    if not shards:
        parser.error("give the shards: --shard NAME=URL, once per shard, in shards.conf order")
    return shards


def parse_map(parser, items, shards):
    if not items:
        mapping = dict(benchlib.CONTINENT_SHARDS)
    else:
        mapping = {}
        for item in items:
            continent, sep, shard = item.rpartition("=")
            if not sep or not continent:
                parser.error("--map takes CONTINENT=SHARD, got %r" % item)
            mapping[continent] = shard
    unknown = sorted({shard for shard in mapping.values() if shard not in shards})
    if unknown:
        parser.error("the continent map names shards that no --shard gives: %s (shards: %s); "
                     "give those shards or --map CONTINENT=SHARD" % (", ".join(unknown), ", ".join(shards)))
    return mapping


class Workload(benchlib.BaseWorkload):
    def peer(self):
        return Peer(self.args.shards, self.args.continent_map, self.args.echo_sql)

    def prepare(self):
        """Finds each shard's Report key range and the locations (parent process, untimed)."""
        peer = self.peer()
        report_max, location_ids = {}, []
        try:
            for name, engine in peer.engines.items():
                with engine.connect() as connection:
                    top = connection.execute(select(func.max(REPORTS.c.id))).scalar()
                    if top is not None:
                        report_max[name] = top
                    location_ids.extend(connection.execute(select(LOCATIONS.c.id)).scalars())
        except SQLAlchemyError as error:
            message = str(error).splitlines()[0]
            if "no such table" in message or "does not exist" in message:
                message += "; the tables are made by shardd: start it once on the same shards"
            raise BenchError("cannot read shard %s: %s" % (name, message))
        finally:
            peer.dispose()  # nothing open is inherited by the client processes
        location_ids.sort()
        location_ids = location_ids[:10000]  # as shardd_client.py, which asks for at most 10000
        self.check_plan(report_max, location_ids, "shardd_client.py")
        return {"report_max": report_max, "location_ids": location_ids}


class Client(benchlib.BaseClient):
    def __init__(self, workload, plan, index):
        super().__init__(workload, plan, index)
        self.peer = workload.peer()
        self.Session = self.peer.Session
        self.report_shards = [n for n in self.peer.shard_names if n in plan["report_max"]]

    def close(self):
        self.peer.dispose()

    # (1) and (2): the shard is known, so the identity token names it (one shard, one SELECT).
    def op_get_shard_known(self, rng, remaining):
        shard = rng.choice(self.report_shards)
        pk = rng.randint(1, self.plan["report_max"][shard])
        with self.Session() as session:
            report = session.get(Report, pk, identity_token=shard)
            self.count("found" if report is not None else "not_found")
        return 1

    # (3): no shard: the identity map is asked under every token, then the SELECT runs on the
    # shards of the execute chooser (all of them, one after the other).
    def op_get_any_shard(self, rng, remaining):
        pk = rng.choice(self.plan["location_ids"])
        with self.Session() as session:
            try:
                location = session.get(WeatherLocation, pk)
                self.count("found" if location is not None else "not_found")
            except MultipleResultsFound:
                self.count("ambiguous")
        return 1

    # (4)
    def op_query_one_shard(self, rng, remaining):
        with self.Session() as session:
            rows = session.execute(select(WeatherLocation).where(WeatherLocation.continent == "Europe")).scalars().all()
        self.last = {"rows": len(rows), "shards": self.peer.last_route}
        return 1

    # (5)
    def op_query_top10(self, rng, remaining):
        with self.Session() as session:
            rows = session.execute(select(Report).order_by(Report.temperature.desc()).limit(10)).scalars().all()
            temperatures = [row.temperature for row in rows]
        self.last = {"rows": len(rows), "temperatures": temperatures, "shards": self.peer.last_route,
                     "note": "each shard's top 10, concatenated in shard order (not merged)"}
        return 1

    # (6)
    def op_aggregate_avg(self, rng, remaining):
        with self.Session() as session:
            pairs = session.execute(select(Report.location_id, func.avg(Report.temperature))
                                    .group_by(Report.location_id)).all()
        self.last = benchlib.aggregate_answer(
            [tuple(pair) for pair in pairs],
            note="each shard's groups, concatenated in shard order (not combined)")
        self.last["shards"] = self.peer.last_route
        return 1

    # (7)
    def op_insert(self, rng, remaining):
        size = self.args.batch if remaining is None else min(self.args.batch, remaining)
        reports = []
        for _ in range(size):
            location_id, temperature, moment = benchlib.report_row(rng, self.plan["location_ids"], self.serial)
            self.serial += 1
            reports.append(Report(location_id=location_id, temperature=temperature, report_time=moment))
        if self.args.sort_batch:
            reports.sort(key=lambda report: report.location_id)
        with self.Session() as session:
            session.add_all(reports)
            session.commit()
        self.count("inserted", size)
        return size


Workload.client_class = Client


def main():
    parser = benchlib.common_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--shard", action="append", default=[], metavar="NAME=URL",
                        help="a shard and its SQLAlchemy URL; repeat in shards.conf order")
    parser.add_argument("--map", action="append", default=[], metavar="CONTINENT=SHARD",
                        help="the continent map (repeatable; default: shards.conf's, "
                             "North America=north_america, Asia=asia, Europe=europe, South America=south_america)")
    parser.add_argument("--echo-sql", action="store_true", help="log every SQL statement (to see the routing)")
    args = parser.parse_args()
    benchlib.check_common(parser, args)
    args.shards = parse_shards(parser, args.shard)
    args.continent_map = parse_map(parser, args.map, args.shards)
    workload = Workload(args.workload, args)
    try:
        benchlib.run(SYSTEM, workload, args, {"shards": len(args.shards)})
    except SQLAlchemyError as error:
        raise BenchError(str(error).splitlines()[0])


if __name__ == "__main__":
    benchlib.main_guard(main)
