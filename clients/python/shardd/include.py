"""`include("reports")`: load a relationship with the objects (the protocol's `include`,
SQLAlchemy's `selectinload`): one query per shard that holds parents, on that shard only."""

from __future__ import annotations

from typing import Iterable, List, Union


class Include:
    __slots__ = ("relationship",)

    def __init__(self, relationship: str) -> None:
        self.relationship = relationship

    def __repr__(self) -> str:
        return "include(%r)" % self.relationship


def include(relationship: str) -> Include:
    """The option for `query(...).options(...)` and `get(..., options=[...])`."""
    return Include(relationship)


def include_names(options: Iterable[Union[Include, str]]) -> List[str]:
    names = []
    for option in options:
        if isinstance(option, Include):
            names.append(option.relationship)
        elif isinstance(option, str):
            names.append(option)
        else:
            raise TypeError("options take include(\"relationship\"), not %r" % (option,))
    return names
