"""A key's network allowlist at request time (issue 16, item 4).

The ranges are parsed once, when the key's record is loaded (`loaded`); a request then costs
one membership test over that tuple, and nothing at all when the key has no allowlist. The
client address is `web.http.client_ip`'s, the same that sign-in throttling and the request
log use, so `TRUSTED_PROXY_COUNT` means one thing everywhere."""

import ipaddress
import json
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class _Nowhere:
    """Stands for a stored range that no longer parses: it admits nobody (fails closed)."""

    def __contains__(self, address: object) -> bool:
        return False


_NOWHERE = _Nowhere()


def loaded(stored: object) -> tuple:
    """The parsed ranges of a stored allowlist (a JSON list; SQLite hands it over as text)."""
    if isinstance(stored, str):
        stored = json.loads(stored)
    if not stored:
        return ()
    networks = []
    for value in stored:
        try:
            networks.append(ipaddress.ip_network(value))
        except (TypeError, ValueError):
            networks.append(_NOWHERE)
    return tuple(networks)


@lru_cache(maxsize=4096)
def _address(text: str) -> Address:
    address = ipaddress.ip_address(text)
    # An IPv4 client seen through an IPv6 socket (::ffff:1.2.3.4) matches IPv4 ranges.
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def admits(networks: tuple, address: str | None) -> bool:
    """Whether `address` (as `client_ip` gives it; None: not an address) is in `networks`."""
    if address is None:
        return False
    try:
        client = _address(address)
    except ValueError:
        return False
    return any(client in network for network in networks)
