"""Objects and models.

Every row the daemon answers becomes an object with its columns as attributes, `.key` (an
`IdentityKey`) and `.identity_token`; relationships loaded with `include` are attributes
too. A model is named either by its shards.conf name (`"Report"`: objects are `Object`s,
whose attributes are untyped) or by a declared class:

    class Report(shardd.Model):
        __model__ = "Report"              # optional: the class's name by default
        id: int
        location_id: int
        temperature: Optional[float]
        report_time: Optional[datetime]   # timestamps become aware datetimes
        location: Optional["WeatherLocation"]   # a relationship, when included

Objects are snapshots of what the daemon answered: the identity map lives in the daemon's
session. A persistent object's columns cannot be assigned (the change would go nowhere);
change rows with `session.update(obj, ...)` or `query(...).update({...})`. An object made by
calling a model class (`Report(location_id=1)`) is transient until `session.add` makes it
persistent in place, as SQLAlchemy's `Session.add` does.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import (TYPE_CHECKING, Any, Callable, ClassVar, Dict, FrozenSet, List, Mapping, NamedTuple,
                    Optional, Tuple, Type, TypeVar, Union)

from .identity_key import IdentityKey
from .values import parse_timestamp


class ModelMeta(type):
    """The metaclass of declared models: a model class equals (and hashes like) its model's
    name, so that identity keys compare like SQLAlchemy's: `key == (Report, (1,), "asia")`."""

    __model__: str

    def __new__(mcs, name: str, bases: Tuple[type, ...], namespace: Dict[str, Any]) -> "ModelMeta":
        namespace.setdefault("__model__", name)
        return super().__new__(mcs, name, bases, namespace)

    def __eq__(cls, other: object) -> bool:
        if isinstance(other, str):
            return other == cls.__model__
        return cls is other

    def __hash__(cls) -> int:
        return hash(cls.__model__)


class BaseObject:
    """What every object of a model has: `key`, `identity_token`, `obj["column"]`,
    `to_dict()`; columns and loaded relationships as attributes."""

    # Columns and related objects live in the instance's __dict__ (plain attribute reads);
    # the key and the names of the related ones in slots, so no column name can clash.
    __slots__ = ("_shardd_key", "_shardd_related", "__dict__")

    _shardd_key: Optional[IdentityKey]
    _shardd_related: FrozenSet[str]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # The slots are set here rather than in __init__, so that a model class with an
        # __init__ of its own (as SQLAlchemy's example has: Report(80.0)) still works.
        obj = super().__new__(cls)
        object.__setattr__(obj, "_shardd_key", None)
        object.__setattr__(obj, "_shardd_related", frozenset())
        return obj

    def __init__(self, **values: Any) -> None:
        """A transient object (no key yet) with these column values, for `session.add`."""
        self.__dict__.update(values)

    @property
    def key(self) -> IdentityKey:
        """`(model, pk, token)`, as SQLAlchemy's `inspect(obj).identity_key`."""
        if self._shardd_key is None:
            raise AttributeError("this %s is transient: it has no identity key until session.add(...)"
                                 % type(self).__name__)
        return self._shardd_key

    @property
    def identity_token(self) -> str:
        """The shard the row lives on."""
        return self.key.token

    def to_dict(self) -> Dict[str, Any]:
        """The column values (without related objects)."""
        related = self._shardd_related
        return {name: value for name, value in self.__dict__.items() if name not in related}

    def __getitem__(self, column: str) -> Any:
        """A column by name, also one that an attribute of this class hides (e.g. `key`)."""
        try:
            return self.__dict__[column]
        except KeyError:
            raise KeyError("%s has no column %r (columns: %s)"
                           % (self._describe(), column, ", ".join(BaseObject.to_dict(self)) or "none")) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if self._shardd_key is not None:
            raise AttributeError("%s is a snapshot of the daemon's row: change it with session.update(obj, %s=...) "
                                 "or query(...).update({...})" % (self._describe(), name))
        object.__setattr__(self, name, value)

    if not TYPE_CHECKING:
        # Hidden from type checkers so that a declared model's attributes are checked
        # against its annotations; reached only for names not in __dict__.
        def __getattr__(self, name: str) -> Any:
            if name.startswith(("__", "_shardd")):
                raise AttributeError(name)
            raise AttributeError(
                "%s has no column or loaded relationship %r (columns: %s); load a relationship with "
                "query(...).options(include(%r)), get(..., options=[include(%r)]) or session.load(obj, %r)"
                % (self._describe(), name, ", ".join(BaseObject.to_dict(self)) or "none", name, name, name))

    def _describe(self) -> str:
        key = self._shardd_key
        if key is None:
            return "a transient %s" % type(self).__name__
        return "%s %s" % (key.model, _key_text(key))

    def __repr__(self) -> str:
        columns = ", ".join("%s=%r" % item for item in BaseObject.to_dict(self).items())
        key = self._shardd_key
        name = key.model if key is not None and type(self) is Object else type(self).__name__
        return "<%s %s%s>" % (name, _key_text(key) + " " if key is not None else "(transient) ", columns)


def _key_text(key: IdentityKey) -> str:
    return '["%s", [%s], "%s"]' % (key.model, ", ".join(repr(v) for v in key.pk), key.token)


class Object(BaseObject):
    """A row of a model named by its shards.conf name: any attribute is a column or a
    loaded relationship (untyped)."""

    __slots__ = ()

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...


class Model(BaseObject, metaclass=ModelMeta):
    """The base of declared models: subclass it with typed attributes (see the module)."""

    __slots__ = ()
    __model__: ClassVar[str]


M = TypeVar("M", bound=Model)
O = TypeVar("O", bound=BaseObject)

ModelRef = Union[str, Type[Model]]
"""A model, by shards.conf name or declared class."""


class InstanceState(NamedTuple):
    """What `shardd.inspect(obj)` tells, with SQLAlchemy's names."""

    identity_key: Optional[IdentityKey]
    identity_token: Optional[str]
    transient: bool
    persistent: bool


def inspect(obj: BaseObject) -> InstanceState:
    """SQLAlchemy's `inspect(obj)` for an object: `inspect(report).identity_key`."""
    key = obj._shardd_key
    return InstanceState(key, key.token if key is not None else None, key is None, key is not None)


# --- Building objects from the daemon's answers -----------------------------------------

Convert = Callable[[Any], Any]


# Objects are many: the hot path avoids IdentityKey's generated __new__ (a tuple is made
# directly) and sets the slots through their descriptors (BaseObject.__setattr__ refuses
# persistent objects, so the slots are never set by attribute assignment).
_new_tuple = tuple.__new__
_set_key = BaseObject.__dict__["_shardd_key"].__set__
_set_related = BaseObject.__dict__["_shardd_related"].__set__
_NO_RELATED: FrozenSet[str] = frozenset()


class ObjectFactory:
    """Turns the daemon's objects (`{"key", "values", "related"?}`) into instances of one
    class, converting the columns its annotations type as datetimes."""

    __slots__ = ("cls", "name", "_converters", "_related", "_ready", "object_of")

    def __init__(self, cls: Type[BaseObject], name: str) -> None:
        self.cls = cls
        self.name = name
        self._converters: Dict[str, Convert] = {}
        self._related: Dict[str, "ObjectFactory"] = {}
        # Annotations are read at the first object, when forward references can resolve.
        self._ready = cls is Object
        self.object_of: Callable[[Mapping[str, Any]], Any] = self._object_of
        """An answer's `object` (get's): an object, or None. Bound once: a get's parse."""

    def _object_of(self, answer: Mapping[str, Any]) -> Any:
        wire = answer["object"]
        return None if wire is None else self.make(wire)

    def make(self, wire: Mapping[str, Any]) -> Any:
        # object.__new__ rather than the class: fill sets every slot, and a model class's
        # own __init__ (or __new__ arguments) must not run for the daemon's rows.
        obj = object.__new__(self.cls)
        self.fill(obj, wire)
        return obj

    def fill(self, obj: BaseObject, wire: Mapping[str, Any]) -> None:
        """Sets `obj`'s key and columns (and related objects) from `wire`, in place."""
        if not self._ready:
            self._read_annotations()
        key = wire["key"]
        values = wire["values"]
        if self._converters:
            values = dict(values)
            for name, convert in self._converters.items():
                if name in values:
                    values[name] = convert(values[name])
        attributes = obj.__dict__
        if attributes:
            attributes.clear()
        attributes.update(values)
        _set_key(obj, _new_tuple(IdentityKey, (key[0], tuple(key[1]), key[2])))
        related = wire.get("related")
        if related:
            for name, value in related.items():
                attributes[name] = self.related(name, value)
            _set_related(obj, frozenset(related))
        else:
            _set_related(obj, _NO_RELATED)

    def related(self, name: str, value: Any) -> Any:
        """A relationship's objects: a list (to-many), an object or None (to-one)."""
        factory = self.related_factory(name)
        if value is None:
            return None
        if isinstance(value, list):
            return [factory.make(item) for item in value]
        return factory.make(value)

    def related_factory(self, name: str) -> "ObjectFactory":
        if not self._ready:
            self._read_annotations()
        return self._related.get(name) or GENERIC

    def _read_annotations(self) -> None:
        try:
            # Each class's annotations resolve in its own module; other model classes also
            # by name, for models declared inside functions (forward references "Report").
            hints = typing.get_type_hints(self.cls, localns=_models_by_name(self.cls))
        except Exception as error:  # NameError, TypeError: unresolvable annotations
            raise TypeError("cannot read the annotations of model class %s: %s" % (self.cls.__qualname__, error)) from None
        for name, hint in hints.items():
            if name.startswith("_") or typing.get_origin(hint) is ClassVar:
                continue
            inner = _unwrap(hint)
            if inner is datetime:
                self._converters[name] = parse_timestamp
            elif isinstance(inner, type) and issubclass(inner, Model) and inner is not Model:
                self._related[name] = factory_for(inner)
        self._ready = True


def _unwrap(hint: Any) -> Any:
    """`Optional[X]`, `List[X]`, `Sequence[X]`... -> X, when there is one such X."""
    origin = typing.get_origin(hint)
    if origin is None:
        return hint
    arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
    if origin is Union or origin in (list, List, tuple) or getattr(origin, "__module__", "") == "collections.abc":
        if len(arguments) == 1:
            return _unwrap(arguments[0])
    return hint


def _models_by_name(near: type) -> Dict[str, Any]:
    """Every declared model class by class name; of several with one name, the one declared
    in the same scope as `near` (same module and qualified-name prefix), else any of them."""
    def scope(cls: type) -> Tuple[str, str]:
        return cls.__module__, cls.__qualname__.rpartition(".")[0]
    home = scope(near)
    found: Dict[str, Any] = {}
    pending: List[type] = [Model]
    while pending:
        cls = pending.pop()
        sub: type
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__name__ not in found or scope(found[sub.__name__]) != home:
                found[sub.__name__] = sub
    return found


GENERIC = ObjectFactory(Object, "")
# By id(cls): a model class hashes by its model's name in Python code (ModelMeta.__hash__),
# too slow for a lookup on every call. Each factory holds its class, so no id is reused
# while its entry is there, and `factory.cls is cls` is checked all the same.
_FACTORIES: Dict[int, ObjectFactory] = {}


def factory_for(cls: Type[Model]) -> ObjectFactory:
    factory = _FACTORIES.get(id(cls))
    if factory is None or factory.cls is not cls:
        factory = _FACTORIES[id(cls)] = ObjectFactory(cls, cls.__model__)
    return factory


def resolve(model: Any) -> Tuple[str, ObjectFactory]:
    """A model argument: its shards.conf name and the factory of its objects."""
    if isinstance(model, str):
        return model, GENERIC
    factory = _FACTORIES.get(id(model))
    if factory is not None and factory.cls is model:
        name: str = getattr(model, "__model__")   # read again, as below (mypy narrowed model)
        return name, factory
    if isinstance(model, type) and issubclass(model, Model) and model is not Model:
        return model.__model__, factory_for(model)
    if isinstance(model, Model):
        return resolve(type(model))
    raise TypeError("a model is its shards.conf name (\"Report\") or a shardd.Model subclass, not %r" % (model,))
