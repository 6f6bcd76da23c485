"""The work itself, run by the task worker (`manage.py db_worker`)."""

import csv
import io
import logging
from datetime import date

from django.core.files.base import ContentFile
from django.tasks import task
from django.utils import timezone

from customers import api as customers_api
from customers.models import Customer
from customers.services import customers_import
from gateway.fields import plain_text
from jobs.models import Job
from web.text import check_name, csv_cell

logger = logging.getLogger("keyward.jobs")
COLUMNS = [
    "customer_id",
    "customer_name",
    "period_start",
    "seats_used",
    "licensed_seats",
    "tier",
    "trial",
    "not_for_resale",
]


@task
def run_job(job_id: str) -> None:
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.QUEUED:
        return  # already picked up (a retry of a delivered task)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        if job.kind == Job.Kind.USAGE_EXPORT:
            _usage_export(job)
        elif job.kind == Job.Kind.CUSTOMER_IMPORT:
            _customer_import(job)
        else:
            raise ValueError(f"Unknown job type {job.kind!r}")
    except Exception as exc:
        logger.exception("Job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error=str(exc)[:1000] or exc.__class__.__name__,
            finished_at=timezone.now(),
        )


def _usage_export(job: Job) -> None:
    params = job.params
    customers = Customer.objects.filter(tenant=job.tenant_id, environment=job.environment)
    if params.get("customers"):
        customers = customers.filter(public_id__in=params["customers"])
    ids = list(customers.order_by("name", "id").values_list("pk", flat=True))
    start, end = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    batch = 50
    for first in range(0, max(len(ids), 1), batch):
        chunk = Customer.objects.filter(pk__in=ids[first : first + batch])
        for row in customers_api.usage_rows(chunk, params["period"], start, end):
            cells = [
                row["customer_id"],
                row["customer_name"],
                row.get("date") or row.get("month"),
                row["seats_used"],
                row["licensed_seats"],
                row["tier"] or "",
                row["trial"],
                row["not_for_resale"],
            ]
            writer.writerow([csv_cell(cell) for cell in cells])
            written += 1
        done = min(first + batch, len(ids))
        progress = 100 if not ids else int(90 * done / len(ids))
        Job.objects.filter(pk=job.pk).update(progress=progress)
    job.refresh_from_db()
    job.result.save(f"usage-{job.pk}.csv", ContentFile(out.getvalue().encode()), save=False)
    Job.objects.filter(pk=job.pk).update(
        result=job.result.name,
        rows=written,
        progress=100,
        status=Job.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )


IMPORT_FIELDS = {"name", "external_id", "status"}


def _customer_import(job: Job) -> None:
    """Validate every row first; then import all of them in one transaction, or none."""
    rows = job.params["rows"]
    lines = job.params.get("lines")  # a CSV's line of each row in the file, header = line 1
    existing = set(
        Customer.objects.filter(tenant=job.tenant_id, environment=job.environment)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    seen: set[str] = set()
    problems, clean = [], []
    for number, row in enumerate(rows, start=1):
        errors = import_row_errors(row, existing, seen)
        if errors:
            problems.append(
                {"row": number, "errors": errors} | ({"line": lines[number - 1]} if lines else {})
            )
        else:
            clean.append(row)
        if number % 500 == 0:
            Job.objects.filter(pk=job.pk).update(progress=int(50 * number / len(rows)))
    if problems:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            details=problems[:1000],
            error=import_failure(problems, len(rows)),
        )
        return
    customers_import(
        tenant_id=job.tenant_id,
        environment=job.environment,
        rows=clean,
        via=f"import job {job.pk}",
    )
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, progress=100, rows=len(clean), finished_at=timezone.now()
    )


NAMED_PROBLEMS = 5


def import_failure(problems: list[dict], total: int) -> str:
    """Why an import was refused, naming each invalid row (its line in a CSV file, counting the
    header, else its place in the array) with its field errors: the first few, then a count
    (every one is in the job's `details`)."""
    invalid = f"{len(problems)} of {total} rows {'is' if len(problems) == 1 else 'are'} invalid"
    named = []
    for problem in problems[:NAMED_PROBLEMS]:
        where = f"Line {problem['line']}" if "line" in problem else f"Row {problem['row']}"
        for field, messages in problem["errors"].items():
            text = " ".join(messages)
            named.append(f"{where}, {field}: {text}{'' if text.endswith('.') else '.'}")
    more = len(problems) - NAMED_PROBLEMS
    if more > 0:
        named.append(f"And {more} more invalid row{'s' if more != 1 else ''} (see the details).")
    return f"{invalid}; nothing was imported. " + " ".join(named)


def import_row_errors(row: object, existing: set[str], seen: set[str]) -> dict:
    if not isinstance(row, dict):
        return {"row": ["Must be an object with name, external_id and status."]}
    errors: dict[str, list[str]] = {}
    for unknown in sorted(set(row) - IMPORT_FIELDS):
        errors[unknown] = ["Unknown field."]
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
    elif len(name) > 200:
        errors["name"] = ["At most 200 characters."]
    elif (message := check_name(name)) is not None:
        errors["name"] = [message]
    external = row.get("external_id", "")
    if not isinstance(external, str) or len(external) > 100:
        errors["external_id"] = ["Must be text of at most 100 characters."]
    elif external.strip():
        if external.strip() in existing:
            errors["external_id"] = ["Another customer already has this external ID."]
        elif external.strip() in seen:
            errors["external_id"] = ["Appears twice in this import."]
        seen.add(external.strip())
    if "status" in row and row["status"] not in Customer.Status.values:
        errors["status"] = [f"Must be one of: {', '.join(Customer.Status.values)}."]
    for field, value in row.items():
        if isinstance(value, str) and not plain_text(value):
            errors[field] = ["Must be plain text (no NUL or lone surrogate characters)."]
    return errors
