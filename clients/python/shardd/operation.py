"""Operation: one request and how its answer becomes the call's result.

`Session` and `AsyncSession` build the same operations here and differ only in how they
wait for the answer, so that the two APIs cannot drift apart."""

from __future__ import annotations

from typing import Any, Callable, Dict, Generic, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from .column import Computed, operand, order_entry
from .condition import Condition
from .event_router import EventRouter, Feed
from .identity_key import IdentityKey
from .include import Include, include_names
from .model import GENERIC, BaseObject, Model, O, ObjectFactory, resolve
from .results import CommitResult, CountResult, Page, ResultList, ServerInfo
from .shard_error import InvalidResponse
from .values import to_wire

R = TypeVar("R")
Answer = Dict[str, Any]


class Operation(Generic[R]):
    """`request` (a JSON object), `parse` (the successful answer to the result; for a
    subscription it registers the feed, so it runs as soon as the answer is read), and
    `abandoned` (called with a successful answer nobody waits for any more: the caller was
    cancelled)."""

    __slots__ = ("request", "parse", "abandoned")

    def __init__(self, request: Dict[str, Any], parse: Callable[[Answer], R],
                 abandoned: Optional[Callable[[Answer], None]] = None) -> None:
        self.request = request
        self.parse = parse
        self.abandoned = abandoned


Where = Union[Condition, Mapping[str, Any], None]
"""A `where`: a condition, a mapping of equalities (`{"continent": "Asia"}`), or None."""

KeyRef = Union[BaseObject, IdentityKey, Tuple[Any, Any, str]]
"""A row's identity: an object, its key, or a `(model, pk, token)` tuple."""


def where_json(where: Where) -> Any:
    if isinstance(where, Condition):
        return where.to_json()
    if isinstance(where, Mapping):
        return {str(name): to_wire(value) for name, value in where.items()}
    raise TypeError("where takes a condition (col(\"temperature\") > 80) or a mapping of equalities, not %s"
                    % type(where).__name__)


def key_json(ref: KeyRef) -> List[Any]:
    if isinstance(ref, BaseObject):
        return ref.key.to_json()
    if isinstance(ref, tuple) and len(ref) == 3:
        model, pk, token = ref
        name = model if isinstance(model, str) else resolve(model)[0]
        return [name, [to_wire(v) for v in (pk if isinstance(pk, (tuple, list)) else (pk,))], token]
    raise TypeError("a row is named by an object, its IdentityKey or a (model, pk, token) tuple, not %r" % (ref,))


def values_json(values: Mapping[str, Any]) -> Dict[str, Any]:
    """Update values: plain values, or computed ones (`col("t") + 1.5`, `now()`)."""
    return {str(name): value.to_json() if isinstance(value, Computed) else operand(value)
            for name, value in values.items()}


def shards_arguments(request: Dict[str, Any], shard: Optional[str], shards: Optional[Iterable[str]]) -> None:
    if shard is not None:
        request["shard"] = shard
    if shards is not None:
        request["shards"] = list(shards)


def _objects(factory: ObjectFactory, answer: Answer) -> List[Any]:
    return [factory.make(item) for item in answer["objects"]]


# --- The ops -----------------------------------------------------------------------------

def hello(client: str) -> Operation[ServerInfo]:
    return Operation({"op": "hello", "client": client}, ServerInfo.from_answer)


def ping() -> Operation[bool]:
    return Operation({"op": "ping"}, lambda answer: bool(answer.get("pong")))


def add(model: Any, rows: Sequence[Any], shard: Optional[str]) -> Operation[List[Any]]:
    """`rows` are mappings or transient objects; objects become persistent in place."""
    name, factory = resolve(model)
    wire_rows = []
    for row in rows:
        if isinstance(row, BaseObject):
            if row._shardd_key is not None:
                raise ValueError("%r is persistent already (key %s); add takes new rows" % (row, row.key))
            values = BaseObject.to_dict(row)
        else:
            values = row
        wire_rows.append({str(column): to_wire(value) for column, value in values.items()})
    request: Dict[str, Any] = {"op": "add", "model": name, "rows": wire_rows}
    shards_arguments(request, shard, None)

    def parse(answer: Answer) -> List[Any]:
        results = []
        for row, wire in zip(rows, answer["objects"]):
            if isinstance(row, BaseObject):
                _factory_of(row).fill(row, wire)
                results.append(row)
            else:
                results.append(factory.make(wire))
        return results
    return Operation(request, parse)


def get(model: Any, pk: Any, shard: Optional[str], fresh: bool,
        options: Iterable[Union[Include, str]]) -> Operation[Any]:
    name, factory = resolve(model)
    request: Dict[str, Any] = {"op": "get", "model": name,
                               "pk": to_wire(list(pk) if isinstance(pk, tuple) else pk)}
    if shard is not None:
        request["shard"] = shard
    if fresh:
        request["fresh"] = True
    if type(options) is not tuple or options:   # the default, (): nothing to read
        names = include_names(options)
        if names:
            request["include"] = names
    return Operation(request, factory.object_of)


def query(request: Dict[str, Any], factory: ObjectFactory) -> Operation[ResultList[Any]]:
    return Operation(request, lambda answer: ResultList(_objects(factory, answer), answer.get("shards", ())))


def page(request: Dict[str, Any], factory: ObjectFactory) -> Operation[Page[Any]]:
    return Operation(request, lambda answer: Page(_objects(factory, answer), answer.get("shards", ()),
                                                  answer.get("next")))


def count(request: Dict[str, Any]) -> Operation[CountResult]:
    return Operation(request, lambda answer: CountResult(answer["count"], dict(answer.get("per_shard", {})),
                                                         list(answer.get("shards", []))))


def aggregate(request: Dict[str, Any]) -> Operation[ResultList[Dict[str, Any]]]:
    return Operation(request, lambda answer: ResultList(answer["rows"], answer.get("shards", ())))


def aggregate_request(model: Any, select: Iterable[Sequence[str]], where: Where, group_by: Iterable[str],
                      having: Where, order_by: Iterable[Any], limit: Optional[int],
                      shard: Optional[str], shards: Optional[Iterable[str]]) -> Dict[str, Any]:
    name = resolve(model)[0]
    request: Dict[str, Any] = {"op": "aggregate", "model": name, "select": [list(item) for item in select]}
    if where is not None:
        request["where"] = where_json(where)
    group = list(group_by)
    if group:
        request["group_by"] = group
    if having is not None:
        request["having"] = where_json(having)
    order = [order_entry(entry) for entry in order_by]
    if order:
        request["order_by"] = order
    if limit is not None:
        request["limit"] = limit
    shards_arguments(request, shard, shards)
    return request


def write_where(request: Dict[str, Any]) -> Operation[int]:
    return Operation(request, lambda answer: int(answer["count"]))


def update(obj: O, values: Mapping[str, Any]) -> Operation[O]:
    """`update`: the object gets the row as the shard wrote it, in place."""
    request = {"op": "update", "key": obj.key.to_json(), "values": values_json(values)}

    def parse(answer: Answer) -> O:
        _refill(obj, answer["object"])
        return obj
    return Operation(request, parse)


def refresh(obj: O, for_update: bool) -> Operation[O]:
    request: Dict[str, Any] = {"op": "refresh", "key": obj.key.to_json()}
    if for_update:
        request["for_update"] = True

    def parse(answer: Answer) -> O:
        _refill(obj, answer["object"])
        return obj
    return Operation(request, parse)


def _refill(obj: BaseObject, wire: Dict[str, Any]) -> None:
    # The related objects loaded before stay; the columns are the shard's now.
    related = {name: obj.__dict__[name] for name in obj._shardd_related if name in obj.__dict__}
    _factory_of(obj).fill(obj, wire)
    if related:
        obj.__dict__.update(related)
        object.__setattr__(obj, "_shardd_related", frozenset(related))


def delete(ref: KeyRef) -> Operation[None]:
    return Operation({"op": "delete", "key": key_json(ref)}, lambda answer: None)


def load(obj: BaseObject, relationship: str) -> Operation[Any]:
    """`load`: the related objects; they also become the object's attribute."""
    request = {"op": "load", "key": obj.key.to_json(), "relationship": relationship}

    def parse(answer: Answer) -> Any:
        factory = _factory_of(obj)
        if "objects" in answer:
            value: Any = [factory.related_factory(relationship).make(item) for item in answer["objects"]]
        elif "object" in answer:
            value = factory.related(relationship, answer["object"])
        else:
            raise InvalidResponse("the daemon's load answer has neither objects nor object: %r" % (answer,))
        obj.__dict__[relationship] = value
        object.__setattr__(obj, "_shardd_related", obj._shardd_related | {relationship})
        return value
    return Operation(request, parse)


def _factory_of(obj: BaseObject) -> ObjectFactory:
    return resolve(type(obj))[1] if isinstance(obj, Model) else GENERIC


def shards_of(op: str) -> Operation[List[str]]:
    """`begin` / `rollback`: the shards touched."""
    return Operation({"op": op}, lambda answer: list(answer.get("shards", [])))


def commit(label: Optional[str]) -> Operation[CommitResult]:
    request: Dict[str, Any] = {"op": "commit"}
    if label is not None:
        request["label"] = label
    return Operation(request, lambda answer: CommitResult(list(answer.get("shards", [])), answer.get("txid"),
                                                          list(answer.get("pending", []))))


def transaction_status(label: str) -> Operation[bool]:
    return Operation({"op": "transaction_status", "label": label},
                     lambda answer: answer.get("outcome") == "committed")


def expunge(ref: KeyRef) -> Operation[bool]:
    return Operation({"op": "expunge", "key": key_json(ref)}, lambda answer: bool(answer.get("expunged")))


def expunge_all() -> Operation[int]:
    return Operation({"op": "expunge_all"}, lambda answer: int(answer.get("expunged", 0)))


def identity_keys(model: Any) -> Operation[List[IdentityKey]]:
    request: Dict[str, Any] = {"op": "identity_keys"}
    if model is not None:
        request["model"] = resolve(model)[0]
    return Operation(request, lambda answer: [IdentityKey.from_json(key) for key in answer["keys"]])


def subscribe(model: Any, where: Where, events: Optional[Iterable[str]], router: EventRouter,
              make_feed: Callable[[int], Feed]) -> Operation[Tuple[Feed, ObjectFactory]]:
    name, factory = resolve(model)
    request: Dict[str, Any] = {"op": "subscribe", "model": name}
    if where is not None:
        request["where"] = where_json(where)
    if events is not None:
        request["events"] = list(events)

    def parse(answer: Answer) -> Tuple[Feed, ObjectFactory]:
        feed = make_feed(int(answer["subscription"]))
        router.register(feed)
        return feed, factory

    def abandoned(answer: Answer) -> None:
        router.orphans.append(int(answer["subscription"]))
    return Operation(request, parse, abandoned)


def unsubscribe(subscription: int) -> Operation[bool]:
    return Operation({"op": "unsubscribe", "subscription": subscription},
                     lambda answer: bool(answer.get("unsubscribed")))


def raw(op: str, arguments: Mapping[str, Any]) -> Operation[Dict[str, Any]]:
    """Any op, its arguments as given; the answer's result fields (without `ok` and `id`)."""
    request = dict(arguments)
    request["op"] = op
    return Operation(request, lambda answer: {k: v for k, v in answer.items() if k not in ("ok", "id")})


def add_groups(instances: Iterable[Any], shard: Optional[str]) -> Tuple[int, List[Tuple[List[int], Operation[List[Any]]]]]:
    """`add_all(instances)`: one `add` per model, in the order each model first appears;
    the positions of each group's instances, to give the results back in input order."""
    groups: Dict[type, List[Tuple[int, Any]]] = {}
    total = 0
    for index, instance in enumerate(instances):
        if not isinstance(instance, Model):
            raise TypeError("add_all(instances) takes shardd.Model objects; for mappings of values give the "
                            "model first: add_all(\"Report\", rows)")
        groups.setdefault(type(instance), []).append((index, instance))
        total += 1
    return total, [([index for index, _ in members], add(cls, [row for _, row in members], shard))
                   for cls, members in groups.items()]
