import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from apikeys import services as key_services
from apikeys.models import ApiKey, KeyUsageDay, RequestLog, Scope, ServiceApiKey, today
from apikeys.signals import keys_changed
from customers.models import Customer, License, SeatUsage
from tenants import services
from tenants.models import Membership, Tenant

VIA = "demo data"

DEMO_PASSWORD = "keyward-demo"

TENANTS = [
    ("acme", "Acme MSP", True),
    ("globex", "Globex", False),
]
# email, superuser, [(tenant slug, admin, developer)]
USERS = [
    ("admin@acme.test", False, [("acme", True, False)]),
    ("dev@acme.test", False, [("acme", False, True)]),
    ("member@acme.test", False, [("acme", False, False)]),
    ("owner@globex.test", False, [("globex", True, True)]),
    ("root@keyward.test", True, []),
]


class Command(BaseCommand):
    help = "Create (or bring back) the demo tenants and users. Safe to run again."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        # Through the services, as every other writer: events, and published key state.
        tenants = {}
        for slug, name, enabled in TENANTS:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                tenant = services.tenant_create(
                    name=name, slug=slug, api_keys_enabled=enabled, via=VIA
                )
            else:
                tenant = services.tenant_rename(tenant=tenant, name=name, actor=None, via=VIA)
                tenant = services.tenant_set_active(tenant=tenant, active=True, actor=None, via=VIA)
                services.tenant_settings_update_by_system(
                    tenant=tenant, actor=None, api_keys_enabled=enabled
                )
            tenants[slug] = tenant
        for email, superuser, memberships in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User(email=email)
            user.is_active = True
            user.is_superuser = user.is_staff = superuser
            if not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
            user.save()
            for slug, admin, developer in memberships:
                membership = Membership.objects.filter(user=user, tenant=tenants[slug]).first()
                if membership is None:
                    services.member_add(
                        tenant=tenants[slug],
                        email=email,
                        is_admin=admin,
                        is_developer=developer,
                        actor=None,
                    )
                else:
                    services.member_set_roles(
                        membership=membership, is_admin=admin, is_developer=developer, actor=None
                    )
        self._seed_licenses(tenants)
        self._seed_keys(tenants["acme"])
        self._seed_customers(tenants["acme"])
        self._seed_traffic(tenants["acme"])
        self._seed_service_keys()
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for email, superuser, memberships in USERS:
            if superuser:
                what = "system admin, /system/"
            else:
                slug, admin, developer = memberships[0]
                roles = [r for r, on in (("admin", admin), ("developer", developer)) if on]
                what = f"{slug}: {', '.join(roles) or 'member, no role'}"
            self.stdout.write(f"  {email:<20} {what}")

    def _seed_licenses(self, tenants: dict[str, Tenant]) -> None:
        """User licences (seed 003): acme has 5, globex 2, and every developer holds one."""
        for slug, count in (("acme", 5), ("globex", 2)):
            tenant = Tenant.objects.get(pk=tenants[slug].pk)
            services.tenant_set_user_licenses(
                tenant=tenant, count=max(count, tenant.user_licenses), actor=None, via=VIA
            )
            for membership in Membership.objects.filter(tenant=tenant, is_developer=True):
                services.member_set_license(membership=membership, licensed=True, actor=None)

    def _seed_keys(self, tenant: Tenant) -> None:
        """A handful of acme keys in every state. Their secrets are thrown away."""
        developer = Membership.objects.get(tenant=tenant, user__email="dev@acme.test")
        admin = Membership.objects.get(tenant=tenant, user__email="admin@acme.test")
        soon = today() + timedelta(days=3)
        keys = [
            ("Main Website Integration", "production", ["customers:read", "customers:write"], 90),
            ("Staging sync", "staging", [s.value for s in Scope], 180),
            ("Telemetry collector", "development", ["telemetry:write"], 60),
            ("Reporting dashboard", "production", ["usage:read"], None),
            ("Old billing export", "production", ["licenses:manage", "usage:read"], 30),
            ("Legacy import", "staging", ["customers:write"], 30),
        ]
        for name, environment, scopes, days in keys:
            if ApiKey.objects.filter(tenant=tenant, owner=developer.user, name=name).exists():
                continue
            key, _ = key_services.api_key_create(
                membership=developer,
                name=name,
                environment=environment,
                scopes=scopes,
                expires_on=soon if days is None else today() + timedelta(days=days),
            )
            if name == "Telemetry collector":
                key_services.api_key_disable(key=key, membership=developer)
            elif name == "Old billing export":
                key_services.api_key_revoke(key=key, membership=admin)
            elif name == "Legacy import":
                # Expired: the policy refuses past dates, so move it there directly.
                ApiKey.objects.filter(pk=key.pk).update(expires_on=today() - timedelta(days=5))
                keys_changed.send(ApiKey, key_ids=[key.key_id])

    def _seed_customers(self, tenant: Tenant) -> None:
        """Customers with licences and 60 days of seat usage in production and staging."""

        rng = random.Random(7)  # noqa: S311 - demo data, not secrets
        names = {
            "production": [
                "Initech",
                "Hooli",
                "Umbrella Health",
                "Stark Logistics",
                "Wayne Foods",
                "Soylent Labs",
                "Cyberdyne Systems",
                "Vandelay Imports",
            ],
            "staging": ["Test Customer A", "Test Customer B", "Sandbox Org"],
        }
        today = timezone.now().date()
        for environment, customer_names in names.items():
            for n, name in enumerate(customer_names):
                customer, created = Customer.objects.get_or_create(
                    tenant=tenant,
                    environment=environment,
                    external_id=f"crm-{environment[:3]}-{1000 + n}",
                    defaults={"name": name},
                )
                seats = rng.choice([10, 25, 50, 100, 250])
                License.objects.get_or_create(
                    customer=customer,
                    defaults={
                        "seats": seats,
                        "tier": rng.choice(License.Tier.values),
                        "trial": n % 4 == 3,
                        "not_for_resale": n % 5 == 4,
                    },
                )
                if not created and SeatUsage.objects.filter(customer=customer).exists():
                    continue
                level = rng.randint(seats // 3, seats)
                SeatUsage.objects.bulk_create(
                    [
                        SeatUsage(
                            customer=customer,
                            day=today - timedelta(days=day),
                            seats_used=max(0, min(seats, level + rng.randint(-3, 3) - day // 10)),
                        )
                        for day in range(60)
                    ],
                    ignore_conflicts=True,
                )

    def _seed_traffic(self, tenant: Tenant) -> None:
        """30 days of request counts and a week of request log for the active demo keys."""

        if RequestLog.objects.filter(tenant=tenant).exists():
            return
        rng = random.Random(11)  # noqa: S311 - demo data, not secrets
        now = timezone.now()
        paths = ["/me", "/customers", "/usage", "/telemetry"]
        logs, counts = [], []
        for key in ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True):
            base = rng.randint(40, 400)
            for day in range(30):
                counts.append(
                    KeyUsageDay(
                        tenant=tenant,
                        key_id=key.key_id,
                        day=(now - timedelta(days=day)).date(),
                        requests=max(0, base + rng.randint(-30, 30)),
                    )
                )
            for _ in range(40):
                status = rng.choices([200, 201, 401, 403, 404, 422, 429], [70, 5, 5, 5, 5, 5, 5])[0]
                logs.append(
                    RequestLog(
                        created_at=now - timedelta(minutes=rng.randint(1, 7 * 24 * 60)),
                        tenant=tenant,
                        key_id=key.key_id,
                        environment=key.environment,
                        method="POST" if status == 201 else "GET",
                        path=f"/api/{key.environment}/v1{rng.choice(paths)}",
                        status=status,
                        latency_ms=round(rng.uniform(1.5, 25), 2),
                        client_ip=f"203.0.113.{rng.randint(1, 254)}",
                    )
                )
        KeyUsageDay.objects.bulk_create(counts, ignore_conflicts=True)
        RequestLog.objects.bulk_create(logs)

    def _seed_service_keys(self) -> None:
        """One active, one revoked and one expired service key (secrets thrown away)."""
        root = User.objects.get(email="root@keyward.test")
        for name, description in [
            ("inventory-service", "Reads tenants to provision inventory."),
            ("erp-sync", "Nightly ERP synchronisation (replaced)."),
            ("legacy-billing", "Old billing bridge."),
        ]:
            if ServiceApiKey.objects.filter(service_name=name).exists():
                continue
            key, _ = key_services.service_key_create(
                service_name=name,
                description=description,
                expires_on=today() + timedelta(days=180),
                actor=root,
            )
            if name == "erp-sync":
                key_services.service_key_revoke(key=key, actor=root)
            elif name == "legacy-billing":
                ServiceApiKey.objects.filter(pk=key.pk).update(
                    expires_on=today() - timedelta(days=3)
                )
