from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from jobs.models import Job
from tenants.access import tenant_view
from tenants.models import Membership, Role
from web.htmx import render_page

PER_PAGE = 50


def _visible(membership: Membership):
    """Every job of the tenant for admins; developers see the jobs of their own keys."""
    jobs = Job.objects.filter(tenant=membership.tenant)
    if not membership.is_admin:
        jobs = jobs.filter(owner_id=membership.user_id)
    return jobs


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def job_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    jobs = _visible(membership)
    status = request.GET.get("status", "")
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    key = request.GET.get("key", "").strip()[:16]
    if key:
        jobs = jobs.filter(key_id=key)
    page = Paginator(jobs.order_by("-created_at"), PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "statuses": Job.Status.choices, "status": status, "key": key}
    return render_page(request, "jobs/list.html", "job-table", context)


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def job_row(request: HttpRequest, membership: Membership, job_id: str) -> HttpResponse:
    """One row, polled by HTMX while its job runs; a finished row stops the polling."""
    job = _get(membership, job_id)
    return render(request, "jobs/list.html#job-row", {"job": job})


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def job_download(request: HttpRequest, membership: Membership, job_id: str) -> HttpResponse:
    job = _get(membership, job_id)
    if job.status != Job.Status.SUCCEEDED or not job.result:
        raise Http404("Nothing to download")
    return job_csv_response(job)


def _get(membership: Membership, job_id: str) -> Job:
    try:
        return get_object_or_404(_visible(membership), pk=job_id)
    except ValueError:
        raise Http404("No such job") from None


def job_csv_response(job: Job) -> HttpResponse:
    """A finished export's file, as an attachment that no cache keeps."""
    with job.result.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{job.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
