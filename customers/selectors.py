"""Reads of customers, each starting from who asks."""

from django.db.models import QuerySet

from customers.models import Customer
from gateway.endpoint import Caller
from tenants.models import Tenant


def visible_customers(caller: Caller) -> QuerySet[Customer]:
    """The customers an API caller may see: its tenant's, in its environment, and only those
    of its customer scope if the key has one. The one place this rule is written."""
    visible = Customer.objects.filter(tenant_id=caller.tenant_id, environment=caller.environment)
    if caller.key.customer_scope:
        visible = visible.filter(public_id__in=caller.key.customer_scope)
    return visible


def count_customers(tenant: Tenant, environment: str, public_ids: list[str]) -> int:
    """How many of `public_ids` are customers of `tenant` in `environment`."""
    return Customer.objects.filter(
        tenant=tenant, environment=environment, public_id__in=public_ids
    ).count()
