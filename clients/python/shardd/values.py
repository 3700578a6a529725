"""Column values between Python and the wire (protocol.md 3): timestamps are RFC 3339
strings on the wire and aware `datetime`s in declared models; NaN, infinities and naive
datetimes are refused before anything is sent."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timezone
from typing import Any, Optional

from .shard_error import InvalidValue

_PLAIN = (str, int, bool, type(None))
_READS_Z = sys.version_info >= (3, 11)


_PLAIN_TYPES = frozenset(_PLAIN)
_isfinite = math.isfinite


def to_wire(value: Any) -> Any:
    """A column value (or a list of them) as JSON can carry it."""
    kind = type(value)
    if kind in _PLAIN_TYPES or (kind is float and _isfinite(value)):
        return value   # the usual values, by their exact type; subclasses and the rest below
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
    # Formatted by hand: strftime is slower, and glibc's %Y does not pad years before 1000.
    utc = moment.astimezone(timezone.utc)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
                                                    utc.microsecond)


def parse_timestamp(text: Optional[str]) -> Optional[datetime]:
    """The daemon's RFC 3339 (`Z`, with 0, 3 or 6 fraction digits) as an aware UTC datetime.

    `fromisoformat` reads `Z` only from Python 3.11 on (and `z` never), hence the rewrite to
    `+00:00` where it cannot."""
    if text is None:
        return None
    last = text[-1:]
    if last == "z" or (last == "Z" and not _READS_Z):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)
