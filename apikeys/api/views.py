"""The platform API endpoints (DESIGN section 3). Every one starts from `caller`, whose
tenant, environment and customer scope come from the key record."""

import re
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apikeys.api import fields
from apikeys.api.endpoint import Caller, endpoint, json_body, ok, parse_json, public_get
from apikeys.api.fields import MAX_PAGE, MAX_PER_PAGE
from apikeys.api.openapi import document
from apikeys.models import ApiKey
from customers.models import MAX_SEATS, Customer, License, SeatUsage
from web.inputs import whole_number
from web.problems import ApiError, invalid, problem

# What new_public_id() makes: anything else cannot be a customer's ID.
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
    customer = caller.customers().filter(public_id=customer_id).first()
    if customer is None:
        raise ApiError(404, "No customer with this ID is visible to this key.")
    return customer


def _duplicate_external_id() -> ApiError:
    return ApiError(
        409,
        "Another customer in this environment already has this external ID.",
        errors={"external_id": ["Already in use."]},
    )


def _int_param(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    number = whole_number(request.GET.get(name, str(default)))
    if number is None or not 1 <= number <= maximum:
        raise invalid({name: [f"Must be a whole number from 1 to {maximum}."]})
    return number


@endpoint({"GET": None})
def me(request: HttpRequest, caller: Caller) -> HttpResponse:
    key = caller.key
    return ok(
        {
            "tenant": key.tenant_slug,
            "key_id": key.key_id,
            "name": key.name,
            "environment": key.environment,
            "scopes": sorted(key.scopes),
            "rate_limit": key.rate_limit,
            "expires_on": key.expires_on.isoformat() if key.expires_on else None,
            "customer_scope": list(key.customer_scope),
        }
    )


@endpoint({"GET": "customers:read", "POST": "customers:write"})
def customers(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _customer_create(request, caller)
    page = _int_param(request, "page", 1, MAX_PAGE)
    per_page = _int_param(request, "per_page", 50, MAX_PER_PAGE)
    visible = caller.customers().order_by("name", "id")
    total = visible.count()
    rows = list(visible[(page - 1) * per_page : page * per_page])
    return ok(
        {
            "data": [_customer_json(c) for c in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "has_more": page * per_page < total,
        }
    )


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
        with transaction.atomic():
            customer = Customer.objects.create(
                tenant_id=caller.tenant_id,
                environment=caller.environment,
                name=name,
                external_id="" if external_id is fields.MISSING else external_id,
                status=Customer.Status.ACTIVE if status is fields.MISSING else status,
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
    for name, value in changes.items():
        if value is not fields.MISSING:
            setattr(found, name, value)
    try:
        with transaction.atomic():
            found.save()
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
    license, _ = License.objects.update_or_create(customer=found, defaults=values)
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
            "data": usage_rows(caller.customers(), period, start, end),
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
    SeatUsage.objects.update_or_create(customer=found, day=day, defaults={"seats_used": seats})
    return ok({"customer_id": found.public_id, "date": day.isoformat(), "seats_used": seats})


@public_get
def health(request: HttpRequest) -> HttpResponse:
    """Unauthenticated liveness check (and the benchmark's baseline)."""
    return ok({"status": "ok"})


_KNOWN_API = re.compile(r"^/api/(?:production|staging|development|system|provider)/v1/")
_ANY_ENVIRONMENT = re.compile(r"^/api/[^/]*/v1/")


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any other `/api/...` path: a problem, like every other API answer."""
    if not _KNOWN_API.match(request.path_info) and _ANY_ENVIRONMENT.match(request.path_info):
        return problem(404, "There is no such environment.")
    return problem(404, "There is no such endpoint.")


@public_get
def openapi(request: HttpRequest, environment: str) -> HttpResponse:
    return ok(document(environment))


def _job_json(job, environment: str) -> dict:
    base = f"/api/{environment}/v1/jobs/{job.pk}"
    return {
        "id": str(job.pk),
        "type": job.kind,
        "status": job.status,
        "progress": job.progress,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error or None,
        "details": job.details,
        "rows": job.rows,
        "download_url": f"{base}/download"
        if job.status == "succeeded" and job.kind == "usage_export"
        else None,
    }


def _job(caller: Caller, job_id: str):
    """A job of the caller's tenant and environment. A key limited to some customers sees
    only the jobs it started itself: another key's export or import may hold any customer
    of the tenant. (A key without that limit sees every customer, so every job.)"""
    from jobs.models import Job

    jobs = Job.objects.filter(tenant_id=caller.tenant_id, environment=caller.environment)
    if caller.key.customer_scope:
        jobs = jobs.filter(key_id=caller.key.key_id)
    try:
        return jobs.get(pk=job_id)
    except (Job.DoesNotExist, ValueError, ValidationError):
        raise ApiError(404, "No job with this ID is visible to this key.") from None


@endpoint({"POST": "usage:read"})
def exports(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Start a usage export; answer 202 with the job to poll."""
    from jobs.models import Job

    data = json_body(request)
    errors: fields.Errors = {}
    fields.unknown_fields(data, {"period", "from", "to", "customers"}, errors)
    period, start, end = usage_range(data, errors, defaults=False)
    wanted = data.get("customers", [])
    if not isinstance(wanted, list) or not all(
        isinstance(c, str) and CUSTOMER_ID.fullmatch(c) for c in wanted
    ):
        errors["customers"] = ["Must be a list of customer IDs (cus_ and 12 letters or digits)."]
    if errors:
        raise invalid(errors)
    if wanted:
        visible = caller.customers().filter(public_id__in=wanted)
        found = set(visible.values_list("public_id", flat=True))
        if missing := sorted(set(wanted) - found):
            raise invalid({"customers": [f"Not visible to this key: {', '.join(missing[:10])}."]})
    scope = sorted(set(wanted)) or list(caller.key.customer_scope)
    params = {
        "period": period,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "customers": scope,
    }
    return _accepted(caller, Job.Kind.USAGE_EXPORT, params)


def _accepted(caller: Caller, kind: str, params: dict) -> HttpResponse:
    """Hand the work to the worker and answer 202 with the job to poll."""
    from jobs.services import job_start

    owner_id = ApiKey.objects.filter(pk=caller.key.pk).values_list("owner_id", flat=True).first()
    job = job_start(
        tenant_id=caller.tenant_id,
        environment=caller.environment,
        key_id=caller.key.key_id,
        owner_id=owner_id,
        kind=kind,
        params=params,
    )
    job.refresh_from_db()
    response = ok(_job_json(job, caller.environment), status=202)
    response["Location"] = f"/api/{caller.environment}/v1/jobs/{job.pk}"
    return response


@endpoint({"GET": None})
def job(request: HttpRequest, caller: Caller, job_id: str) -> HttpResponse:
    return ok(_job_json(_job(caller, job_id), caller.environment))


@endpoint({"GET": "usage:read"})
def job_download(request: HttpRequest, caller: Caller, job_id: str) -> HttpResponse:
    found = _job(caller, job_id)
    if found.status != "succeeded" or not found.result:
        raise ApiError(409, "The job has not finished successfully; nothing to download yet.")
    from jobs.services import job_csv_response

    return job_csv_response(found)


MAX_IMPORT_ROWS = 10_000


@endpoint({"POST": "customers:write"})
def customer_import(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Start an all-or-nothing import of up to 10,000 customers (a JSON array, or CSV with a
    header of name, external_id, status); answer 202 with the job to poll."""
    import csv
    import io

    from jobs.models import Job
    from jobs.tasks import import_row_errors

    if caller.key.customer_scope:
        raise ApiError(403, "This key is limited to specific customers and cannot import more.")
    if request.content_type == "text/csv":
        try:
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "The CSV is not UTF-8.") from None
        reader = csv.DictReader(io.StringIO(text))
        try:
            if not reader.fieldnames or "name" not in reader.fieldnames:
                raise invalid({"body": ["The CSV needs a header row with at least `name`."]})
            # An empty CSV cell is an absent field.
            rows = [{k: v for k, v in row.items() if k is not None and v != ""} for row in reader]
        except csv.Error as exc:  # a field over csv.field_size_limit(), for one
            raise invalid(
                {"body": [f"Line {reader.line_num + 1} of the CSV is not readable: {exc}."]}
            ) from None
    elif request.content_type == "application/json":
        rows = parse_json(request.body)
        if not isinstance(rows, list):
            raise invalid({"body": ["Send a JSON array of customers, or CSV."]})
    else:
        raise ApiError(415, "Send a JSON array (application/json) or CSV (text/csv).")
    if not rows:
        raise invalid({"body": ["There are no customers to import."]})
    if len(rows) > MAX_IMPORT_ROWS:
        raise invalid({"body": [f"At most {MAX_IMPORT_ROWS:,} customers at a time."]})
    # What the request alone shows to be wrong is refused now; the job then checks the
    # rows against the customers already there, and imports all of them or none.
    seen: set[str] = set()
    errors = {
        f"rows[{number}].{field}": messages
        for number, row in enumerate(rows, start=1)
        for field, messages in import_row_errors(row, set(), seen).items()
    }
    if errors:
        raise invalid(dict(list(errors.items())[:200]))
    return _accepted(caller, Job.Kind.CUSTOMER_IMPORT, {"rows": rows})
