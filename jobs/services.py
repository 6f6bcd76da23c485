from django.db import transaction

from jobs.models import Job
from jobs.tasks import run_job


@transaction.atomic
def job_start(
    *,
    tenant_id: int,
    environment: str,
    key_id: str,
    owner_id: int | None,
    kind: str,
    params: dict,
) -> Job:
    """Record the job and hand it to the worker once the record is committed."""
    job = Job.objects.create(
        tenant_id=tenant_id,
        environment=environment,
        key_id=key_id,
        owner_id=owner_id,
        kind=kind,
        params=params,
    )
    transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    return job
