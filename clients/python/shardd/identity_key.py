"""IdentityKey: which row an object is, as SQLAlchemy's `inspect(obj).identity_key`."""

from __future__ import annotations

from typing import Any, List, NamedTuple, Tuple


class IdentityKey(NamedTuple):
    """`(model, pk, token)`: the model's name, the primary key values, and the identity
    token, which is the name of the shard the row lives on (protocol.md 3).

    It compares like SQLAlchemy's `(cls, pk_tuple, identity_token)`: a declared
    `shardd.Model` class equals its model's name, so
    `obj.key == (Report, (1,), "asia")` and `obj.key == ("Report", (1,), "asia")` both hold.
    """

    model: Any
    """The model's name, a str. Typed Any so that comparing with SQLAlchemy's form,
    `(Report, (1,), "asia")` with a declared class, type-checks under mypy --strict."""
    pk: Tuple[Any, ...]
    token: str

    @classmethod
    def from_json(cls, value: Any) -> "IdentityKey":
        """The key as the daemon writes it: `["Report", [1], "asia"]`."""
        model, pk, token = value
        return cls(model, tuple(pk), token)

    def to_json(self) -> List[Any]:
        """The key as the daemon reads it."""
        return [self.model, list(self.pk), self.token]

    @property
    def identity_token(self) -> str:
        """SQLAlchemy's name for the token."""
        return self.token
