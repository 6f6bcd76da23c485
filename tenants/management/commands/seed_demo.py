from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from apikeys.models import Scope
from tenants.models import Membership, Tenant, TenantSettings

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
        tenants = {}
        for slug, name, enabled in TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                slug=slug, defaults={"name": name, "is_active": True}
            )
            TenantSettings.objects.update_or_create(
                tenant=tenant, defaults={"api_keys_enabled": enabled}
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
                Membership.objects.update_or_create(
                    user=user,
                    tenant=tenants[slug],
                    defaults={"is_admin": admin, "is_developer": developer},
                )
        self._seed_keys(tenants["acme"])
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

    def _seed_keys(self, tenant: Tenant) -> None:
        """A handful of acme keys in every state. Their secrets are thrown away."""
        from apikeys import services
        from apikeys.models import ApiKey, today

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
            key, _ = services.api_key_create(
                membership=developer,
                name=name,
                environment=environment,
                scopes=scopes,
                expires_on=soon if days is None else today() + timedelta(days=days),
            )
            if name == "Telemetry collector":
                services.api_key_disable(key=key, membership=developer)
            elif name == "Old billing export":
                services.api_key_revoke(key=key, membership=admin)
            elif name == "Legacy import":
                # Expired: the policy refuses past dates, so move it there directly.
                ApiKey.objects.filter(pk=key.pk).update(expires_on=today() - timedelta(days=5))
