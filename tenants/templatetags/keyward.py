from django import template

from tenants import selectors
from tenants.models import Membership
from tenants.selectors import KeyRequirements

register = template.Library()


def _plain(value: object) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.filter
def change_summary(value: object) -> str:
    """`{"before": x, "after": y}` as "x → y", `{"added": [...], "removed": [...]}` as
    "added x; removed y"; anything else as plain text."""
    if isinstance(value, dict) and set(value) == {"before", "after"}:
        return f"{_plain(value['before'])} → {_plain(value['after'])}"
    if isinstance(value, dict) and set(value) == {"added", "removed"}:
        parts = [f"{verb} {_plain(value[verb])}" for verb in ("added", "removed") if value[verb]]
        return "; ".join(parts) or "none"
    return _plain(value)


@register.simple_tag
def key_requirements(membership: Membership) -> KeyRequirements:
    """`{% key_requirements membership as requirements %}`: what generating keys needs."""
    return selectors.key_requirements(membership=membership)
