"""Column values between Python and the wire (protocol.md 3): timestamps are RFC 3339
strings on the wire and aware `datetime`s in declared models; NaN, infinities and naive
datetimes are refused before anything is sent."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Optional

from .shard_error import InvalidValue

_PLAIN = (str, int, bool, type(None))


def to_wire(value: Any) -> Any:
    """A column value (or a list of them) as JSON can carry it."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue("%r cannot be sent: the daemon stores finite doubles only" % value)
        return value
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(item) for item in value]
    raise TypeError("%s is not a column value: use str, int, float, bool, None or an aware datetime"
                    % type(value).__name__)


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC with microseconds, e.g. `2026-11-21T09:30:00.250000Z`.

    A naive datetime is refused: the daemon stores instants, and guessing the zone (local
    time? UTC?) would store another instant than the one meant."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue("the datetime %s has no time zone; give an aware one, e.g. "
                           "datetime.now(timezone.utc)" % moment.isoformat())
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: Optional[str]) -> Optional[datetime]:
    """The daemon's RFC 3339 (`Z`, with 0, 3 or 6 fraction digits) as an aware UTC datetime.

    `fromisoformat` reads `Z` only from Python 3.11 on, hence the rewrite to `+00:00`."""
    if text is None:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)
