"""The JSON of one protocol line: `encode` (a request to its text, without the newline) and
`decode` (a line's text to its value).

Both give exactly what `json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
allow_nan=False).encode` and `json.JSONDecoder().decode` give, and raise what they raise;
they only skip the work those repeat on every call (a new C encoder and its circular-reference
table per request, two whitespace regex matches per line), which is a good part of a small
request's cost on the client side. Where the C accelerator (`_json`) is missing or does not
behave as expected, the standard calls are used as they are."""

from __future__ import annotations

import json
from typing import Any, Callable, cast

# Compact, and NaN refused (values.to_wire refuses them first with a clearer message).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_standard_encode: Callable[[Any], str] = _ENCODER.encode
_standard_decode: Callable[[str], Any] = json.JSONDecoder().decode


def _make_encode() -> Callable[[Any], str]:
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:
        return _standard_encode
    # The encoder JSONEncoder.iterencode makes for each call, made once, without the
    # circular-reference table (`markers`): a cycle would exhaust the recursion limit
    # instead, and is then encoded again the standard way, for the standard error.
    fast = make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, False)
    join = "".join

    def encode(value: Any) -> str:
        try:
            return join(fast(value, 0))
        except RecursionError:
            return _standard_encode(value)

    sample = {"op": "get", "model": "Report", "pk": [1, -2.5, True, None, "é\"\n"], "fresh": True, "x": {"y": []}}
    try:
        if encode(sample) != _standard_encode(sample):
            return _standard_encode
    except Exception:  # noqa: BLE001 - an accelerator unlike CPython's: the standard way
        return _standard_encode
    return encode


def _make_decode() -> Callable[[str], Any]:
    try:
        from _json import make_scanner
    except ImportError:
        return _standard_decode
    # What JSONDecoder.decode's raw_decode calls (the decoder is the scanner's settings).
    scan = make_scanner(cast(Any, json.JSONDecoder()))

    def decode(text: str) -> Any:
        # A line is one JSON value with no whitespace around it (the daemon writes none);
        # anything else (blanks, extra data, not JSON) goes the standard way, which accepts
        # or refuses it and says why.
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return _standard_decode(text)
        if end != len(text):
            return _standard_decode(text)
        return value

    sample = '{"ok":true,"object":{"key":["Report",[1],"asia"],"values":{"t":-1.5e3,"s":"\\u00e9\\n","n":null}}}'
    try:
        if decode(sample) != _standard_decode(sample):
            return _standard_decode
    except Exception:  # noqa: BLE001
        return _standard_decode
    return decode


encode: Callable[[Any], str] = _make_encode()
decode: Callable[[str], Any] = _make_decode()
