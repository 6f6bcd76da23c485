"""The work itself, run by the task worker (`manage.py db_worker`)."""

import csv
import io
import logging
from datetime import date

from django.core.files.base import ContentFile
from django.tasks import task
from django.utils import timezone

from jobs.models import Job

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
        else:
            raise ValueError(f"Unknown job type {job.kind!r}")
    except Exception as exc:
        logger.exception("Job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error=str(exc)[:1000] or exc.__class__.__name__,
            finished_at=timezone.now(),
        )
        return


def _usage_export(job: Job) -> None:
    from apikeys.api.views import usage_rows
    from customers.models import Customer

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
        for row in usage_rows(chunk, params["period"], start, end):
            writer.writerow(
                [
                    row["customer_id"],
                    row["customer_name"],
                    row.get("date") or row.get("month"),
                    row["seats_used"],
                    row["licensed_seats"],
                    row["tier"] or "",
                    row["trial"],
                    row["not_for_resale"],
                ]
            )
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
