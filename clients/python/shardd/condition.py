"""Conditions: the `where` expressions of protocol.md 7, built with `col(...)` comparisons
and combined with `&`, `|` and `~` (or `and_`, `or_`, `not_`), and SQLAlchemy's `any()` /
`has()` on relationships: `any_("reports", col("temperature") > 90)`,
`rel("location").has(col("continent") == "Asia")`."""

from __future__ import annotations

from typing import Any, List, Optional


class Condition:
    """One `where` expression, kept in its protocol form (`to_json()`)."""

    __slots__ = ("_json",)

    def __init__(self, json: Any) -> None:
        self._json = json

    def to_json(self) -> Any:
        """The protocol form, e.g. `[">=", "temperature", 80]`."""
        return self._json

    def __and__(self, other: "Condition") -> "Condition":
        return and_(self, other)

    def __or__(self, other: "Condition") -> "Condition":
        return or_(self, other)

    def __invert__(self) -> "Condition":
        return not_(self)

    def __bool__(self) -> bool:
        # `a and b`, `not a` and chained comparisons would otherwise silently use only one side.
        raise TypeError("a shardd condition has no truth value: combine conditions with &, | and ~ "
                        "(not `and`, `or`, `not`), with each comparison in parentheses: "
                        "(col(\"a\") > 1) & (col(\"b\") < 2)")

    def __repr__(self) -> str:
        return "Condition(%r)" % (self._json,)


def _condition(value: Any, what: str) -> Condition:
    if not isinstance(value, Condition):
        raise TypeError("%s takes conditions such as col(\"temperature\") > 80, not %s"
                        % (what, type(value).__name__))
    return value


def and_(*conditions: Condition) -> Condition:
    """All of the conditions (`["and", ...]`); nested ands are flattened."""
    parts: List[Any] = []
    for condition in conditions:
        json = _condition(condition, "and_ / &").to_json()
        if isinstance(json, list) and json and json[0] == "and":
            parts.extend(json[1:])
        else:
            parts.append(json)
    if len(parts) == 1:
        return Condition(parts[0])
    return Condition(["and"] + parts)


def or_(*conditions: Condition) -> Condition:
    """Any of the conditions (`["or", ...]`); nested ors are flattened."""
    parts: List[Any] = []
    for condition in conditions:
        json = _condition(condition, "or_ / |").to_json()
        if isinstance(json, list) and json and json[0] == "or":
            parts.extend(json[1:])
        else:
            parts.append(json)
    if len(parts) == 1:
        return Condition(parts[0])
    return Condition(["or"] + parts)


def not_(condition: Condition) -> Condition:
    """`["not", e]`."""
    return Condition(["not", _condition(condition, "not_ / ~").to_json()])


def any_(relationship: str, condition: Optional[Condition] = None) -> Condition:
    """SQLAlchemy's `Model.rel.any(cond)`: at least one row of the to-many `relationship`
    (matching `condition`, over the related model). The trailing underscore keeps Python's
    `any` usable."""
    if condition is None:
        return Condition(["any", relationship])
    return Condition(["any", relationship, _condition(condition, "any_").to_json()])


def has(relationship: str, condition: Optional[Condition] = None) -> Condition:
    """SQLAlchemy's `Model.rel.has(cond)`: the to-one `relationship`'s row exists (and
    matches `condition`)."""
    if condition is None:
        return Condition(["has", relationship])
    return Condition(["has", relationship, _condition(condition, "has").to_json()])


class Relationship:
    """A relationship by its shards.conf name, for `rel("reports").any(...)`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def any(self, condition: Optional[Condition] = None) -> Condition:
        return any_(self.name, condition)

    def has(self, condition: Optional[Condition] = None) -> Condition:
        return has(self.name, condition)

    def __repr__(self) -> str:
        return "rel(%r)" % self.name


def rel(name: str) -> Relationship:
    """The relationship `name` of the model queried: `rel("reports").any(col("temperature") > 90)`."""
    return Relationship(name)
