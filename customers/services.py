"""Every write to customers, licences and seat usage. Each is atomic and records its event in
the same transaction, whoever calls it (the API, an import job, the system admin site)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction

from customers.models import Customer, License, SeatUsage
from tenants.models import Event
from tenants.services import event_record


def _record(
    customer: Customer, action: Event.Action, via: str, changes: dict[str, Any] | None = None
) -> None:
    event_record(
        action=action,
        actor=None,
        tenant=customer.tenant,
        target_type="customer",
        target_id=customer.public_id,
        target_name=customer.name,
        changes=(changes or {}) | ({"via": via} if via else {}),
    )


@transaction.atomic
def customer_create(
    *,
    tenant_id: int,
    environment: str,
    name: str,
    external_id: str = "",
    status: str = Customer.Status.ACTIVE,
    via: str = "",
) -> Customer:
    """A new customer (IntegrityError if its external ID is taken in the environment)."""
    customer = Customer.objects.create(
        tenant_id=tenant_id,
        environment=environment,
        name=name,
        external_id=external_id,
        status=status,
    )
    _record(customer, Event.Action.CUSTOMER_CREATED, via, {"environment": environment})
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, via: str = "", **values: str) -> Customer:
    """Change a customer's name, external ID or status; one event lists what changed."""
    changes = {
        field: {"before": getattr(customer, field), "after": value}
        for field, value in values.items()
        if getattr(customer, field) != value
    }
    if not changes:
        return customer
    for field, value in values.items():
        setattr(customer, field, value)
    customer.save()
    _record(customer, Event.Action.CUSTOMER_UPDATED, via, changes)
    return customer


@transaction.atomic
def license_set(
    *,
    customer: Customer,
    seats: int,
    tier: str,
    trial: bool,
    not_for_resale: bool,
    via: str = "",
) -> License:
    values = {"seats": seats, "tier": tier, "trial": trial, "not_for_resale": not_for_resale}
    current = License.objects.select_for_update().filter(customer=customer).first()
    before = {field: getattr(current, field) for field in values} if current else None
    license, _ = License.objects.update_or_create(customer=customer, defaults=values)
    if before != values:
        _record(customer, Event.Action.LICENSE_CHANGED, via, {"before": before, "after": values})
    return license


def seat_usage_record(*, customer: Customer, day: date, seats: int) -> SeatUsage:
    """A day's seats in use. Telemetry is data, not a change of anything's configuration: it
    writes no event (the request log records each call)."""
    usage, _ = SeatUsage.objects.update_or_create(
        customer=customer, day=day, defaults={"seats_used": seats}
    )
    return usage


@transaction.atomic
def customers_import(
    *, tenant_id: int, environment: str, rows: Iterable[dict], via: str = ""
) -> int:
    """Create every customer of `rows` (already validated), all or none; one event."""
    made = Customer.objects.bulk_create(
        Customer(
            tenant_id=tenant_id,
            environment=environment,
            name=row["name"].strip(),
            external_id=(row.get("external_id") or "").strip(),
            status=row.get("status") or Customer.Status.ACTIVE,
        )
        for row in rows
    )
    if made:
        event_record(
            action=Event.Action.CUSTOMERS_IMPORTED,
            actor=None,
            tenant=made[0].tenant,
            target_type="customer",
            target_name=f"{len(made)} customers",
            changes={"environment": environment, "count": len(made)}
            | ({"via": via} if via else {}),
        )
    return len(made)
