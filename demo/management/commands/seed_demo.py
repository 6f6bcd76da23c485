import base64
import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts.models import User
from apikeys import services as key_services
from apikeys.models import ApiKey, KeyUsageDay, RequestLog, ServiceApiKey
from customers.models import Customer, License, SeatUsage
from demo.story import DEMO_AGE_DAYS, DEMO_CUSTOMERS, DEMO_KEYS, agrees, as_of, requests
from gateway import usage
from tenants import services
from tenants.models import Membership, Tenant

VIA = "demo data"

DEMO_PASSWORD = "keyward-demo"
# root's authenticator app (the system admin site asks for a second factor): this key, in
# base32 as apps take it, is printed with the sign-ins so that the demo stays usable.
DEMO_TOTP_SECRET = "KEYWARDDEMOTOTPROOTSECRETKEYWARD"
DEMO_TOTP_KEY_HEX = base64.b32decode(DEMO_TOTP_SECRET).hex()

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
    help = (
        "Create (or bring back) the demo: tenants, users, customers, keys and their traffic. "
        "Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        # Through the services, as every other writer: events, and published key state. What
        # is created is dated back (`as_of`), so that its events, its keys' lives and their
        # traffic tell one story; what exists already is left as it is.
        self.now = timezone.now()
        self.start = self.now - timedelta(days=DEMO_AGE_DAYS)
        tenants = {}
        for slug, name, enabled in TENANTS:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                with as_of(self.start):  # the demo's first moment
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
                user = User(email=email, date_joined=self.start + timedelta(hours=1))
            user.is_active = True
            user.is_superuser = user.is_staff = superuser
            if not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
            user.save()
            for slug, admin, developer in memberships:
                membership = Membership.objects.filter(user=user, tenant=tenants[slug]).first()
                if membership is None:
                    with as_of(self.start + timedelta(hours=1)):
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
        self._seed_customers(tenants["acme"])
        self._seed_keys(tenants["acme"])
        self._seed_traffic(tenants["acme"])
        self._seed_service_keys()
        self._seed_second_factor()
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
        spaced = " ".join(DEMO_TOTP_SECRET[i : i + 4] for i in range(0, 32, 4))
        self.stdout.write(
            f"  root@keyward.test signs in with a second factor: add the key {spaced} to an "
            "authenticator app (time-based, 6 digits), or run "
            "`python manage.py demo_totp_code` for the code of the moment."
        )

    def _seed_second_factor(self) -> None:
        """root's authenticator app with the demo's key (put back if it was changed)."""
        root = User.objects.get(email="root@keyward.test")
        if not TOTPDevice.objects.filter(user=root, confirmed=True, key=DEMO_TOTP_KEY_HEX).exists():
            account_services.totp_install(user=root, key_hex=DEMO_TOTP_KEY_HEX, actor=None, via=VIA)

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
        """The acme keys of DEMO_KEYS, each created, disabled or revoked on its day (their
        secrets are thrown away, so no real request can ever use them)."""
        developer = Membership.objects.get(tenant=tenant, user__email="dev@acme.test")
        admin = Membership.objects.get(tenant=tenant, user__email="admin@acme.test")
        for spec in DEMO_KEYS:
            if ApiKey.objects.filter(tenant=tenant, owner=developer.user, name=spec.name).exists():
                continue
            created = self.now - timedelta(days=spec.created_days_ago)
            scope = Customer.objects.filter(
                tenant=tenant, environment=spec.environment, name__in=spec.customers
            )
            with as_of(created):
                key, secret = key_services.api_key_create(
                    membership=developer,
                    name=spec.name,
                    description=spec.description,
                    environment=spec.environment,
                    scopes=spec.scopes,
                    expires_on=created.date() + timedelta(days=spec.lasts_days),
                    customer_scope=[c.public_id for c in scope],
                )
            if spec.disabled_days_ago is not None:
                with as_of(self.now - timedelta(days=spec.disabled_days_ago)):
                    key_services.api_key_disable(key=key, membership=developer)
            if spec.revoked_days_ago is not None:
                with as_of(self.now - timedelta(days=spec.revoked_days_ago)):
                    if spec.leaked_at:  # revoked by the tenant's leak policy
                        key_services.api_key_report_leak(
                            token=secret,
                            source_url=spec.leaked_at,
                            reporter="GitHub secret scanning (commit)",
                        )
                    else:
                        key_services.api_key_revoke(key=key, membership=admin)

    def _seed_customers(self, tenant: Tenant) -> None:
        """Customers (since the demo began) with licences and 60 days of seat usage."""

        rng = random.Random(7)  # noqa: S311 - demo data, not secrets
        today = self.now.date()
        for environment, customer_names in DEMO_CUSTOMERS.items():
            for n, name in enumerate(customer_names):
                with as_of(self.start + timedelta(days=1)):
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
        """Each demo key's requests, from its creation to the moment it stopped working (the
        API logs no request of a revoked, expired or disabled key: it never learns whose it
        is), written as the API writes its batches: the log, the daily counts by status class
        and the last-used time come from the same rows, so they agree. Every request is
        logged (no sampling). A key whose traffic is there already keeps it, unless it
        contradicts the key (an older demo's): then it is written again."""
        developer = User.objects.get(email="dev@acme.test")
        for spec in DEMO_KEYS:
            key = ApiKey.objects.filter(tenant=tenant, owner=developer, name=spec.name).first()
            if key is None:
                continue
            logs = RequestLog.objects.filter(tenant=tenant, key_id=key.key_id)
            counts = KeyUsageDay.objects.filter(tenant=tenant, key_id=key.key_id)
            if logs.exists() or counts.exists():
                if agrees(key, logs, counts):
                    continue
                logs.delete()
                counts.delete()
                ApiKey.objects.filter(pk=key.pk).update(last_used_at=None)
            customers = Customer.objects.filter(tenant=tenant, environment=key.environment)
            if key.customer_scope:
                customers = customers.filter(public_id__in=key.customer_scope)
            ids = sorted(customers.values_list("public_id", flat=True))
            usage.write_now(requests(spec, key, ids, self.now))

    def _seed_service_keys(self) -> None:
        """One active, one revoked and one expired service key (secrets thrown away), made
        when the demo began. None has called the system API: none has been used."""
        root = User.objects.get(email="root@keyward.test")
        made = self.start + timedelta(days=2)
        for name, description, lasts_days in [
            ("inventory-service", "Reads tenants to provision inventory.", 270),
            ("erp-sync", "Nightly ERP synchronisation (replaced).", 270),
            ("legacy-billing", "Old billing bridge.", DEMO_AGE_DAYS - 2 - 3),  # expired 3 days ago
        ]:
            if ServiceApiKey.objects.filter(service_name=name).exists():
                continue
            with as_of(made):
                key, _ = key_services.service_key_create(
                    service_name=name,
                    description=description,
                    expires_on=made.date() + timedelta(days=lasts_days),
                    actor=root,
                )
            if name == "erp-sync":
                with as_of(self.now - timedelta(days=20)):
                    key_services.service_key_revoke(key=key, actor=root)
