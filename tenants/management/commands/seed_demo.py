from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
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
