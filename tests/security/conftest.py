"""The world every hostile request is thrown at, the personas' clients, and a snapshot of
the state a refused request must leave as it was."""

import time
import uuid
from dataclasses import dataclass, field

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Passkey, User
from apikeys import provider, services
from apikeys.models import MAX_RATE_LIMIT, ApiKey, ProviderKey, ServiceApiKey
from customers.models import Customer, License, SeatUsage
from jobs.models import Job
from tenants.models import Event, Membership, Tenant, TenantSettings
from tests.conftest import ALL_SCOPES
from tests.factories import UserFactory
from tests.helpers import with_verified_session

CSRF = "A" * 32  # a well-formed CSRF secret: the cookie and the header agree

# What a refused request must not change. The request log, usage counts, sessions and
# sign-in attempts are written by design on refusals too, so they are not compared.
WATCHED = [
    User,
    Tenant,
    TenantSettings,
    Membership,
    ApiKey,
    ServiceApiKey,
    ProviderKey,
    Event,
    Customer,
    License,
    SeatUsage,
    Job,
    TOTPDevice,
    StaticDevice,
    StaticToken,
    Passkey,
]
IGNORED_FIELDS = {
    "last_login",
    "last_used_at",
    # django-otp counts wrong codes on the device (its own delays are off: axes throttles).
    "throttling_failure_count",
    "throttling_failure_timestamp",
}


def snapshot() -> dict[str, list[tuple]]:
    """Every watched row, every field: the tables are small in a test."""
    state = {}
    for model in WATCHED:
        names = [f.attname for f in model._meta.concrete_fields if f.name not in IGNORED_FIELDS]
        state[model.__name__] = list(model.objects.order_by("pk").values_list(*names))
    return state


def difference(before: dict, after: dict) -> dict[str, tuple[list, list]]:
    changed = {}
    for name in before:
        if before[name] != after[name]:
            gone = [row for row in before[name] if row not in after[name]]
            new = [row for row in after[name] if row not in before[name]]
            changed[name] = (gone[:3], new[:3])
    return changed


@dataclass
class World:
    personas: dict[str, User | None]
    clients: dict[str, Client]
    dev_key: ApiKey
    outsider_key: ApiKey
    member_membership: Membership
    acme_customer: Customer
    globex_customer: Customer
    job: Job
    globex_job: Job
    keys: dict[str, str] = field(default_factory=dict)  # API credentials by name
    provider_pem: str = ""
    provider_kid: str = ""
    root: User | None = None

    def jwt(self, **claims) -> str:
        now = int(time.time())
        payload = {
            "iss": "acme",
            "aud": settings.PROVIDER_API_AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        } | claims
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload, self.provider_pem, algorithm="EdDSA", headers={"kid": self.provider_kid}
        )


def signed_in(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
        if user.is_superuser:
            with_verified_session(client, user)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
    return client


def _key(membership: Membership, name: str, **fields) -> tuple[ApiKey, str]:
    values = {
        "name": name,
        "environment": "production",
        "scopes": ALL_SCOPES,
        "rate_limit": MAX_RATE_LIMIT,
    } | fields
    return services.api_key_create(membership=membership, **values)


@pytest.fixture
def world(admin, developer, member, outsider, acme, globex) -> World:
    for tenant in (acme, globex):
        tenant.settings.max_expiration_days = None
        tenant.settings.max_keys_per_user = 1000
        tenant.settings.save()
    dev = Membership.objects.get(user=developer, tenant=acme)
    admin_membership = Membership.objects.get(user=admin, tenant=acme)
    out = Membership.objects.get(user=outsider, tenant=globex)
    acme_customer = Customer.objects.create(
        tenant=acme, environment="production", name="Initech", external_id="ini-1"
    )
    License.objects.create(customer=acme_customer, seats=10, tier="standard")
    globex_customer = Customer.objects.create(
        tenant=globex, environment="production", name="Hooli", external_id="hoo-1"
    )
    dev_key, full = _key(dev, "Main Website Integration")
    _, usage_only = _key(dev, "Usage reader", scopes=["usage:read"])
    _, scoped = _key(dev, "One customer", customer_scope=[acme_customer.public_id])
    _, staging = _key(dev, "Staging", environment="staging")
    revoked, revoked_secret = _key(dev, "Revoked")
    services.api_key_revoke(key=revoked, membership=dev)
    outsider_key, other_tenant = _key(out, "Globex key")
    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    _, service = services.service_key_create(service_name="inventory-service", actor=root)
    _, pem = provider.provider_key_generate(membership=admin_membership)
    kid = ProviderKey.objects.get(tenant=acme, revoked_at__isnull=True).kid
    job = Job.objects.create(
        tenant=acme,
        environment="production",
        key_id=dev_key.key_id,
        owner=developer,
        kind=Job.Kind.USAGE_EXPORT,
        params={},
    )
    globex_job = Job.objects.create(
        tenant=globex,
        environment="production",
        key_id=outsider_key.key_id,
        owner=outsider,
        kind=Job.Kind.USAGE_EXPORT,
        params={},
    )
    personas = {
        "admin": admin,
        "developer": developer,
        "member": member,
        "outsider": outsider,
        "anonymous": None,
    }
    return World(
        personas=personas,
        clients={name: signed_in(user) for name, user in personas.items()},
        dev_key=dev_key,
        outsider_key=outsider_key,
        member_membership=Membership.objects.get(user=member, tenant=acme),
        acme_customer=acme_customer,
        globex_customer=globex_customer,
        job=job,
        globex_job=globex_job,
        keys={
            "full": full,
            "usage_only": usage_only,
            "customer_scoped": scoped,
            "staging": staging,
            "revoked": revoked_secret,
            "other_tenant": other_tenant,
            "service": service,
        },
        provider_pem=pem,
        provider_kid=kid,
        root=root,
    )
