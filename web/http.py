import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=4096)
def _address(value: str) -> str | None:
    """`value` if it is an IP address (what an inet or GenericIPAddressField stores)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the proxy-reported one behind trusted proxies.
    None when what is there is not an address (a forged or mangled X-Forwarded-For)."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return _address(forwarded[-proxies][:64])
    remote = request.META.get("REMOTE_ADDR")
    return _address(remote[:64]) if remote else None
