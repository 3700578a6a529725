"""Columns by name, `col("temperature")`: comparisons make conditions (`col("t") >= 80`),
arithmetic makes computed values for updates (`col("t") + 1.5`, protocol.md 7), `.desc()`
an ordering. Names are checked by the daemon (`UnknownColumn`)."""

from __future__ import annotations

from typing import Any, Iterable, List

from .condition import Condition
from .values import to_wire


class Computed:
    """A value each shard computes from the row it updates: `["+", "temperature", 1.5]`.
    The left operand is always a column; chain to the right: `col("a") * (col("a") + 1)`."""

    __slots__ = ("_json",)

    def __init__(self, json: List[Any]) -> None:
        self._json = json

    def to_json(self) -> List[Any]:
        return self._json

    def _refuse(self, other: Any) -> Any:
        raise TypeError("the left side of + - * / in a computed value must be a column (protocol.md 7): "
                        "write col(\"a\") * (col(\"a\") + 1) rather than (col(\"a\") + 1) * col(\"a\")")

    __add__ = __sub__ = __mul__ = __truediv__ = __radd__ = __rsub__ = __rmul__ = __rtruediv__ = _refuse

    def __repr__(self) -> str:
        return "Computed(%r)" % (self._json,)


def now() -> Computed:
    """`["now"]`: the daemon's clock, for timestamp columns (one instant per request)."""
    return Computed(["now"])


def operand(value: Any) -> Any:
    """The right side of a computed value: a value or another computed value."""
    if isinstance(value, Computed):
        return value.to_json()
    if isinstance(value, Column):
        raise TypeError("a column alone is not a value in a computed value: write col(%r) + 0 for its value"
                        % value.name)
    return to_wire(value)


def _value(value: Any, column: str) -> Any:
    if isinstance(value, (Column, Computed, Condition)):
        raise TypeError("column %s is compared with a %s; conditions compare a column with a value"
                        % (column, type(value).__name__))
    return to_wire(value)


class Ordering:
    """One `order_by` entry: `col("t").desc()` is `"-t"`."""

    __slots__ = ("name", "descending")

    def __init__(self, name: str, descending: bool) -> None:
        self.name = name
        self.descending = descending

    def to_json(self) -> str:
        return "-" + self.name if self.descending else self.name

    def __repr__(self) -> str:
        return "Ordering(%r)" % self.to_json()


class Column:
    """A column of the model queried (or an aggregate's alias, in `having`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    # Comparisons build conditions, as SQLAlchemy's column expressions do; == None and
    # != None are IS NULL / IS NOT NULL, as there.
    def __eq__(self, other: Any) -> Condition:  # type: ignore[override]
        if other is None:
            return Condition(["is_null", self.name])
        return Condition(["=", self.name, _value(other, self.name)])

    def __ne__(self, other: Any) -> Condition:  # type: ignore[override]
        if other is None:
            return Condition(["not_null", self.name])
        return Condition(["!=", self.name, _value(other, self.name)])

    def __lt__(self, other: Any) -> Condition:
        return Condition(["<", self.name, _value(other, self.name)])

    def __le__(self, other: Any) -> Condition:
        return Condition(["<=", self.name, _value(other, self.name)])

    def __gt__(self, other: Any) -> Condition:
        return Condition([">", self.name, _value(other, self.name)])

    def __ge__(self, other: Any) -> Condition:
        return Condition([">=", self.name, _value(other, self.name)])

    def __hash__(self) -> int:
        return hash(("shardd.col", self.name))

    def in_(self, values: Iterable[Any]) -> Condition:
        """`["in", col, [...]]`; the execute chooser maps each value of the shard key to its shard."""
        return Condition(["in", self.name, [_value(value, self.name) for value in values]])

    def not_in(self, values: Iterable[Any]) -> Condition:
        """`["not_in", col, [...]]`."""
        return Condition(["not_in", self.name, [_value(value, self.name) for value in values]])

    notin_ = not_in

    def between(self, low: Any, high: Any) -> Condition:
        """`["between", col, low, high]` (both ends included)."""
        return Condition(["between", self.name, _value(low, self.name), _value(high, self.name)])

    def like(self, pattern: str) -> Condition:
        """SQL LIKE with `%` and `_`, case-sensitive on every backend."""
        return Condition(["like", self.name, _value(pattern, self.name)])

    def startswith(self, prefix: str) -> Condition:
        """`["starts_with", col, prefix]` (no wildcards)."""
        return Condition(["starts_with", self.name, _value(prefix, self.name)])

    def is_(self, other: None) -> Condition:
        """`is_(None)`: IS NULL (the protocol has no other IS)."""
        if other is not None:
            raise TypeError("is_() takes None only (IS NULL); compare values with ==")
        return Condition(["is_null", self.name])

    def isnot(self, other: None) -> Condition:
        """`isnot(None)`: IS NOT NULL."""
        if other is not None:
            raise TypeError("isnot() takes None only (IS NOT NULL); compare values with !=")
        return Condition(["not_null", self.name])

    is_not = isnot

    def desc(self) -> Ordering:
        return Ordering(self.name, True)

    def asc(self) -> Ordering:
        return Ordering(self.name, False)

    # Arithmetic builds computed values for update values.
    def __add__(self, other: Any) -> Computed:
        return Computed(["+", self.name, operand(other)])

    def __sub__(self, other: Any) -> Computed:
        return Computed(["-", self.name, operand(other)])

    def __mul__(self, other: Any) -> Computed:
        return Computed(["*", self.name, operand(other)])

    def __truediv__(self, other: Any) -> Computed:
        return Computed(["/", self.name, operand(other)])

    def concat(self, other: Any) -> Computed:
        """`["concat", col, text]`: the column's text with `other` appended."""
        return Computed(["concat", self.name, operand(other)])

    def __bool__(self) -> bool:
        raise TypeError("col(%r) has no truth value; compare it: col(%r) == value" % (self.name, self.name))

    def __repr__(self) -> str:
        return "col(%r)" % self.name


def col(name: str) -> Column:
    """The column `name` of the model queried: `col("temperature") >= 80`."""
    return Column(name)


def order_entry(value: Any) -> str:
    """An `order_by` argument as the protocol spells it: `"-temperature"`, `"id"`."""
    if isinstance(value, str):
        return value
    if isinstance(value, Ordering):
        return value.to_json()
    if isinstance(value, Column):
        return value.name
    raise TypeError("order_by takes column names (\"-temperature\"), col(...) or col(...).desc(), not %s"
                    % type(value).__name__)
