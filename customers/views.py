from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apikeys.models import Environment
from customers.models import Customer, License, SeatUsage
from tenants.access import tenant_view
from tenants.models import Membership, Role
from web.charts import daily_bars
from web.htmx import render_page

PER_PAGE = 50
USAGE_DAYS = 60


def _environment(request: HttpRequest) -> str:
    environment = request.GET.get("environment", "production")
    return environment if environment in Environment.values else "production"


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def customer_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    environment = _environment(request)
    query = request.GET.get("q", "").strip()[:100]
    customers = Customer.objects.filter(
        tenant=membership.tenant, environment=environment
    ).select_related("license")
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(external_id__icontains=query))
    page = Paginator(customers.order_by("name", "id"), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "environment": environment,
        "environments": Environment.choices,
    }
    return render_page(request, "customers/list.html", "customer-table", context)


@require_GET
@tenant_view(Role.ADMIN, Role.DEVELOPER)
def customer_detail(request: HttpRequest, membership: Membership, public_id: str) -> HttpResponse:
    customer = get_object_or_404(Customer, tenant=membership.tenant, public_id=public_id)
    license = License.objects.filter(customer=customer).first()
    today = timezone.now().date()
    usage = dict(
        SeatUsage.objects.filter(
            customer=customer, day__gt=today - timedelta(days=USAGE_DAYS)
        ).values_list("day", "seats_used")
    )
    chart = daily_bars(usage, days=USAGE_DAYS, end=today, unit="seats")
    return render(
        request,
        "customers/detail.html",
        {"customer": customer, "license": license, "chart": chart, "days": USAGE_DAYS},
    )
