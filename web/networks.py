"""Network allowlists: the IPv4 and IPv6 ranges a key may be used from (issue 16, item 4).

One parser for every writer (the key's settings, the tenant default, the command line, the
admin): ranges are normalised (`10.1.2.3` is `10.1.2.3/32`), duplicates collapse, and a
range with host bits set (`10.0.0.1/8`) is refused with the range it probably means, rather
than silently widened or narrowed. An empty list means anywhere."""

import ipaddress
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError

MAX_NETWORKS = 100
# The longest range written out: an IPv6 address in full (39) and a prefix (4), with room.
MAX_RANGE_LENGTH = 64
# The text area holds at most this much: 100 ranges of the longest kind, one a line.
MAX_TEXT_LENGTH = MAX_NETWORKS * (MAX_RANGE_LENGTH + 2)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_one(text: str) -> Network:
    shown = text if len(text) <= MAX_RANGE_LENGTH else text[:MAX_RANGE_LENGTH] + "…"
    if not text.isascii() or not text.isprintable() or len(text) > MAX_RANGE_LENGTH or "%" in text:
        raise ValueError(f"{shown!r} is not an IPv4 or IPv6 address or range.")
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        pass
    else:
        mapped = network.network_address.ipv4_mapped if network.version == 6 else None
        if mapped is not None and network.prefixlen >= 96:
            # Clients are matched as IPv4 (gateway.networks), so the range is stored so too.
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
        return network
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"{shown!r} is not an IPv4 or IPv6 address or range (for example 203.0.113.0/24 "
            "or 2001:db8::/32)."
        ) from None
    raise ValueError(f"{shown!r} has bits set after the prefix; did you mean {loose}?")


def parse_networks(values: str | Iterable[str]) -> list[str]:
    """The normalised ranges of `values` (text, one range a line or comma-separated, or a
    list), in their order without duplicates; ValidationError naming the first bad one."""
    if isinstance(values, str):
        if len(values) > MAX_TEXT_LENGTH:
            raise ValidationError(f"At most {MAX_NETWORKS} ranges, one a line.")
        values = values.replace(",", "\n").splitlines()
    elif not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ValidationError("Give the ranges as a list of strings.")
    found: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            found[str(_parse_one(value))] = None
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if len(found) > MAX_NETWORKS:
            raise ValidationError(f"At most {MAX_NETWORKS} ranges; this list has more.")
    return list(found)


def networks_text(networks: Iterable[str]) -> str:
    """Stored ranges as the form shows them: one a line."""
    return "\n".join(networks)


def networks_diff(before: Iterable[str], after: Iterable[str]) -> dict[str, list[str]]:
    """What an edit added and removed, for the event."""
    old, new = list(before), list(after)
    return {
        "added": [n for n in new if n not in old],
        "removed": [n for n in old if n not in new],
    }


class NetworksField(forms.Field):
    """A form's allowlist: a text area, one range a line; cleans to the normalised list."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"})
    default_help_text = (
        f"IPv4 or IPv6 addresses or ranges in CIDR notation (203.0.113.0/24, 2001:db8::/32), "
        f"one a line, at most {MAX_NETWORKS}. Empty: any address."
    )

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", self.default_help_text)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("maxlength", str(MAX_TEXT_LENGTH))

    def prepare_value(self, value):
        return networks_text(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value) -> list[str]:
        if value in (None, ""):
            return []
        return parse_networks(value)

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != list(initial or [])
        except ValidationError:
            return True
