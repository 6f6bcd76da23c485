"""The jobs part of the platform API: exports and imports start background jobs, which the
caller polls (`/jobs/{id}`) and downloads."""

import csv
import io

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from apikeys.models import ApiKey
from customers.api import CUSTOMER_ID, usage_range
from customers.selectors import visible_customers
from gateway import fields
from gateway.endpoint import Caller, endpoint, json_body, ok, parse_json
from jobs.models import Job
from jobs.services import job_start
from jobs.tasks import import_row_errors
from jobs.views import job_csv_response
from web.problems import ApiError, invalid


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
        visible = visible_customers(caller).filter(public_id__in=wanted)
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

    return job_csv_response(found)


MAX_IMPORT_ROWS = 10_000


@endpoint({"POST": "customers:write"})
def customer_import(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Start an all-or-nothing import of up to 10,000 customers (a JSON array, or CSV with a
    header of name, external_id, status); answer 202 with the job to poll."""

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
            # An empty CSV cell is an absent field. Each row keeps the line it starts on in
            # the file (the header is line 1; a quoted cell may span lines), to name it.
            rows, lines = [], []
            start = reader.line_num + 1
            for row in reader:
                rows.append({k: v for k, v in row.items() if k is not None and v != ""})
                lines.append(start)
                start = reader.line_num + 1
        except csv.Error as exc:  # a field over csv.field_size_limit(), for one
            raise invalid(
                {"body": [f"Line {reader.line_num + 1} of the CSV is not readable: {exc}."]}
            ) from None
    elif request.content_type == "application/json":
        rows, lines = parse_json(request.body), None
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
    # A CSV row is named by its line in the file (`line[3].name`), a JSON one by its place.
    seen: set[str] = set()
    errors = {
        f"line[{lines[number - 1]}].{field}" if lines else f"rows[{number}].{field}": messages
        for number, row in enumerate(rows, start=1)
        for field, messages in import_row_errors(row, set(), seen).items()
    }
    if errors:
        raise invalid(dict(list(errors.items())[:200]))
    return _accepted(
        caller, Job.Kind.CUSTOMER_IMPORT, {"rows": rows} | ({"lines": lines} if lines else {})
    )
