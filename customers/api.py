"""The customers part of the platform API (DESIGN section 3): customers, licences, usage and
telemetry. Every endpoint starts from `caller`, whose tenant, environment and customer scope
come from the key record; `customers.selectors.visible_customers` is the one rule of what a
caller may see."""

import re
from datetime import date, timedelta

from django.db import IntegrityError
from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import MAX_SEATS, Customer, License, SeatUsage
from customers.selectors import visible_customers
from gateway import fields
from gateway.endpoint import Caller, endpoint, json_body, ok, page_of
from web.problems import ApiError, invalid

CUSTOMER_ID = re.compile(r"cus_[0-9A-Za-z]{12}")
STATUSES = Customer.Status.values
TIERS = License.Tier.values


def _customer_json(customer: Customer) -> dict:
    return {
        "id": customer.public_id,
        "name": customer.name,
        "external_id": customer.external_id,
        "status": customer.status,
        "environment": customer.environment,
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
    }


def _license_json(customer: Customer, license: License | None) -> dict:
    return {
        "customer_id": customer.public_id,
        "seats": license.seats if license else 0,
        "tier": license.tier if license else None,
        "trial": license.trial if license else False,
        "not_for_resale": license.not_for_resale if license else False,
        "updated_at": license.updated_at.isoformat() if license else None,
    }


def _customer(caller: Caller, customer_id: str) -> Customer:
    # An ID that cannot exist (NUL, other digits, any length) never reaches the database.
    if not CUSTOMER_ID.fullmatch(customer_id):
        raise ApiError(404, "No customer with this ID is visible to this key.")
    customer = visible_customers(caller).filter(public_id=customer_id).first()
    if customer is None:
        raise ApiError(404, "No customer with this ID is visible to this key.")
    return customer


def _via(caller: Caller) -> str:
    return f"API key {caller.key.key_id}"


def _duplicate_external_id() -> ApiError:
    return ApiError(
        409,
        "Another customer in this environment already has this external ID.",
        errors={"external_id": ["Already in use."]},
    )


@endpoint({"GET": "customers:read", "POST": "customers:write"})
def customers(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _customer_create(request, caller)
    return page_of(request, visible_customers(caller).order_by("name", "id"), _customer_json)


def _customer_create(request: HttpRequest, caller: Caller) -> HttpResponse:
    if caller.key.customer_scope:
        raise ApiError(403, "This key is limited to specific customers and cannot create more.")
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"name", "external_id", "status"}, errors)
    name = fields.name(data, "name", errors, max_length=200, required=True)
    external_id = fields.string(data, "external_id", errors, max_length=100, required=False)
    status = fields.choice(data, "status", errors, choices=STATUSES, required=False)
    if errors:
        raise invalid(errors)
    try:
        customer = services.customer_create(
            tenant_id=caller.tenant_id,
            environment=caller.environment,
            name=name,
            external_id="" if external_id is fields.MISSING else external_id,
            status=Customer.Status.ACTIVE if status is fields.MISSING else status,
            via=_via(caller),
        )
    except IntegrityError:
        raise _duplicate_external_id() from None
    response = ok(_customer_json(customer), status=201)
    response["Location"] = reverse(
        "api:customer",
        kwargs={"environment": caller.environment, "customer_id": customer.public_id},
    )
    return response


@endpoint({"GET": "customers:read", "PATCH": "customers:write"})
def customer(request: HttpRequest, caller: Caller, customer_id: str) -> HttpResponse:
    found = _customer(caller, customer_id)
    if request.method == "GET":
        return ok(_customer_json(found))
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"name", "external_id", "status"}, errors)
    changes = {
        "name": fields.name(data, "name", errors, max_length=200, required="name" in data),
        "external_id": fields.string(data, "external_id", errors, max_length=100, required=False),
        "status": fields.choice(data, "status", errors, choices=STATUSES, required=False),
    }
    if errors:
        raise invalid(errors)
    try:
        found = services.customer_update(
            customer=found,
            via=_via(caller),
            **{name: value for name, value in changes.items() if value is not fields.MISSING},
        )
    except IntegrityError:
        raise _duplicate_external_id() from None
    return ok(_customer_json(found))


@endpoint({"GET": "customers:read", "PUT": "licenses:manage"})
def customer_license(request: HttpRequest, caller: Caller, customer_id: str) -> HttpResponse:
    found = _customer(caller, customer_id)
    if request.method == "GET":
        return ok(_license_json(found, License.objects.filter(customer=found).first()))
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"seats", "tier", "trial", "not_for_resale"}, errors)
    values = {
        "seats": fields.integer(data, "seats", errors, minimum=0, maximum=MAX_SEATS),
        "tier": fields.choice(data, "tier", errors, choices=TIERS, required=True),
        "trial": fields.boolean(data, "trial", errors),
        "not_for_resale": fields.boolean(data, "not_for_resale", errors),
    }
    if errors:
        raise invalid(errors)
    license = services.license_set(customer=found, via=_via(caller), **values)
    return ok(_license_json(found, license))


def usage_range(
    source, errors: fields.Errors, *, defaults: bool
) -> tuple[str, date | None, date | None]:
    """`period`, `from` and `to` of a usage question, from query parameters or a JSON body;
    with `defaults`, the last 30 days, daily. Problems go into `errors`."""
    today = timezone.now().date()
    given = {
        "period": source.get("period", "daily" if defaults else None),
        "from": source.get("from", (today - timedelta(days=29)).isoformat() if defaults else None),
        "to": source.get("to", today.isoformat() if defaults else None),
    }
    for name, value in given.items():
        if value is None:
            errors[name] = ["This field is required."]
    period = given["period"]
    if period is not None and period not in ("daily", "monthly"):
        errors["period"] = ["Must be daily or monthly."]
    start = fields.iso_date(given["from"], "from", errors) if given["from"] is not None else None
    end = fields.iso_date(given["to"], "to", errors) if given["to"] is not None else None
    if not errors and start > end:
        errors["from"] = ["Must not be after 'to'."]
    if not errors and (end - start).days >= fields.MAX_USAGE_DAYS:
        errors["to"] = [f"Ask for at most {fields.MAX_USAGE_DAYS} days at a time."]
    return period, start, end


def usage_params(request: HttpRequest) -> tuple[str, date, date]:
    """The usage question of a GET (query parameters, with defaults), or a 422."""
    errors: fields.Errors = {}
    period, start, end = usage_range(request.GET, errors, defaults=True)
    if errors:
        raise invalid(errors)
    return period, start, end


@endpoint({"GET": "usage:read"})
def usage(request: HttpRequest, caller: Caller) -> HttpResponse:
    period, start, end = usage_params(request)
    return ok(
        {
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "data": usage_rows(visible_customers(caller), period, start, end),
        }
    )


def usage_rows(customers, period: str, start: date, end: date) -> list[dict]:
    """Seat consumption per customer and day (or month: the peak), with licence facts."""
    visible = {c.pk: c for c in customers.select_related("license")}
    rows = SeatUsage.objects.filter(customer_id__in=list(visible), day__gte=start, day__lte=end)
    if period == "monthly":
        points = (
            rows.annotate(month=TruncMonth("day"))
            .values("customer_id", "month")
            .annotate(seats=Max("seats_used"))
            .order_by("month", "customer_id")
        )
        items = [
            (p["customer_id"], "month", f"{p['month'].year:04d}-{p['month'].month:02d}", p["seats"])
            for p in points
        ]
    else:
        points = rows.values_list("customer_id", "day", "seats_used").order_by("day", "customer_id")
        items = [(pk, "date", day.isoformat(), seats) for pk, day, seats in points]
    result = []
    for pk, label, when, seats in items:
        customer = visible[pk]
        license = getattr(customer, "license", None)
        result.append(
            {
                "customer_id": customer.public_id,
                "customer_name": customer.name,
                label: when,
                "seats_used": seats,
                "licensed_seats": license.seats if license else 0,
                "tier": license.tier if license else None,
                "trial": license.trial if license else False,
                "not_for_resale": license.not_for_resale if license else False,
            }
        )
    return result


@endpoint({"POST": "telemetry:write"})
def telemetry(request: HttpRequest, caller: Caller) -> HttpResponse:
    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"customer_id", "date", "seats_used"}, errors)
    customer_id = fields.string(data, "customer_id", errors, max_length=20, required=True)
    day = (
        fields.iso_date(data.get("date"), "date", errors)
        if "date" in data
        else fields._fail(errors, "date", "This field is required.")
    )
    seats = fields.integer(data, "seats_used", errors, minimum=0, maximum=MAX_SEATS)
    if not errors and day > timezone.now().date():
        errors["date"] = ["Must not be in the future."]
    if errors:
        raise invalid(errors)
    found = _customer(caller, customer_id)
    services.seat_usage_record(customer=found, day=day, seats=seats)
    return ok({"customer_id": found.public_id, "date": day.isoformat(), "seats_used": seats})
