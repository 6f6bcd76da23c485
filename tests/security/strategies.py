# ruff: noqa: RUF001  (the look-alike characters are the point)
"""Hypothesis strategies for hostile input, and helpers that put it on the wire as raw bytes.

Django's test client encodes `str` as UTF-8 (and cannot encode a lone surrogate), so query
strings, form bodies and path segments are built here as percent-encoded bytes: what a
hostile client can really send, invalid UTF-8 included.
"""

import json
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

# Characters that have broken, or could break, something on the way to a database or a page.
NUL = "\x00"
CONTROL = [chr(c) for c in range(0x01, 0x20)] + ["\x7f", "\x85"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u200b", "\u200d", "\ufeff", "\u2028", "\u2029", "\u00ad"]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
NON_ASCII_DIGITS = ["²", "³", "¹", "٣", "۴", "०", "১", "๓", "①", "𝟗", "５", "Ⅻ", "〇"]
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "{% debug %}",
    "' OR 1=1 --",
    "%s%s%n",
    "../../etc/passwd",
    '=HYPERLINK("http://x")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "javascript:alert(1)",
    "\\u0000",
    "%00",
    "%",
    "%zz",
    "&",
    "=",
    "?",
    "#",
    "/",
]

# Text without lone surrogates (anything a UTF-8 encoder accepts).
encodable_text = st.text(
    alphabet=st.characters(codec="utf-8"),
    max_size=40,
)


def _joined(parts: list[str]) -> str:
    return "".join(parts)


def hostile_text(*, nul: bool = True, surrogates: bool = True, long: bool = True):
    """Short strings mixing the dangerous characters with ordinary ones, and a few long ones."""
    specials = CONTROL + BIDI + INVISIBLE + NON_ASCII_DIGITS
    if nul:
        specials = [*specials, NUL]
    if surrogates:
        specials = [*specials, *LONE_SURROGATES]
    pieces = st.one_of(
        encodable_text,
        st.sampled_from(specials),
        st.sampled_from(MARKUP),
        st.sampled_from(["acme", "globex", "kw_live_", "cus_", "admin@acme.test", " ", ""]),
    )
    mixed = st.lists(pieces, min_size=0, max_size=6).map(_joined)
    strategies = [mixed, st.sampled_from(MARKUP), st.sampled_from(specials)]
    if long:
        strategies.append(
            st.builds(
                lambda c, n: c * n,
                st.sampled_from(["a", "é", "\u202e", "0", "𝟗"]),
                st.sampled_from([101, 255, 1001, 5000, 70_000]),
            )
        )
    return st.one_of(*strategies)


hostile_numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1.5",
            "1e3",
            "1e309",
            "NaN",
            "inf",
            "-0",
            "0x10",
            "00000000000000000001",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "9223372036854775808",
            "99999999999999999999999999999",
            "1" * 5000,
            " 7 ",
            "7\n",
            "1_000",
            "+5",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

hostile_dates = st.sampled_from(
    [
        "0000-00-00",
        "9999-12-31",
        "10000-01-01",
        "2024-02-30",
        "2025-13-01",
        "1-01-01",
        "0001-01-01",
        "2025-01-01T25:61",
        "2025-01-01T00:00:00+99:00",
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "２０２５-０１-０１",
        "2025‐01‐01",
        "yesterday",
    ]
)


def hostile_value(*, nul: bool = True, surrogates: bool = True, long: bool = True):
    """Any form/query value: text, numbers or dates."""
    return st.one_of(
        hostile_text(nul=nul, surrogates=surrogates, long=long), hostile_numbers, hostile_dates
    )


def wire(text: str) -> bytes:
    """The bytes a client would send for `text`; a lone surrogate becomes invalid UTF-8."""
    return text.encode("utf-8", "surrogatepass")


def percent(text: str) -> str:
    return quote_from_bytes(wire(text), safe="")


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{percent(name)}={percent(value)}" for name, value in pairs)


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    return query_string(pairs).encode("ascii")


# JSON: scalars of every type, wrong types, and shapes (deep nesting is a known defect, see
# known.py: only moderate depth here).
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30, 0, -1, 1_000_001]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 12.0, 12.5]),
    hostile_text(),
    hostile_dates,
)


def json_values(max_leaves: int = 12):
    return st.recursive(
        json_scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(hostile_text(long=False), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def json_object(field_values: dict[str, object]):
    """An object whose fields are the endpoint's own names (valid or hostile values), plus
    sometimes unknown ones."""
    known = st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(st.just(good), json_values()) for name, good in field_values.items()
        },
    )
    extra = st.dictionaries(hostile_text(long=False), json_values(4), max_size=2)
    return st.builds(lambda a, b: b | a, known, extra)


def json_body(field_values: dict[str, object]):
    """Raw bytes of a request body: mostly JSON objects, sometimes other shapes or not JSON."""
    raw = st.one_of(
        json_object(field_values).map(lambda d: json.dumps(d).encode()),
        json_values().map(lambda v: json.dumps(v).encode()),
        st.sampled_from(
            [
                b"",
                b"{",
                b"null",
                b"[]",
                b'{"a":1,"a":2}',
                b"\xff\xfe{}",
                b"\xef\xbb\xbf{}",
                b'{"name":"\\ud800"}',
                b'{"name":"\x00"}',
                b"NaN",
                b'{"seats": Infinity}',
                b'{"seats": 1e999}',
                b"[" * 50 + b"]" * 50,
                b'{"x":' * 50 + b"1" + b"}" * 50,
                b"1" * 5000,
            ]
        ),
        hostile_text().map(wire),
    )
    return raw
