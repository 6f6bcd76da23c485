from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apikeys.models import ApiKey, Expiration
from jobs.models import ExpiryNotice
from tenants.models import Membership


class Command(BaseCommand):
    help = (
        "Email each owner about their keys that expire within KEYS_EXPIRING_SOON_DAYS days, and "
        "each tenant's admins a summary. Safe to run from cron: a key is mentioned once a day."
    )

    def handle(self, *args: object, **options: object) -> None:
        today = timezone.now().date()
        expiring = (
            ApiKey.objects.not_revoked()
            .with_expiration(Expiration.EXPIRING_SOON)  # the console's filter, the same days
            .filter(tenant__is_active=True)
            .select_related("owner", "tenant")
            .order_by("tenant__name", "expires_on", "name")
        )
        by_owner, by_tenant = defaultdict(list), defaultdict(list)
        for key in expiring:
            try:
                with transaction.atomic():
                    ExpiryNotice.objects.create(key_id=key.key_id, day=today)
            except IntegrityError:
                continue  # told today already
            by_owner[key.owner].append(key)
            by_tenant[key.tenant].append(key)
        for owner, keys in by_owner.items():
            send_mail(
                subject=f"{len(keys)} of your API keys expire soon",
                message=render_to_string("jobs/email/expiring_owner.txt", {"keys": keys}),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[owner.email],
            )
        for tenant, keys in by_tenant.items():
            admins = Membership.objects.filter(tenant=tenant, is_admin=True, user__is_active=True)
            recipients = list(admins.values_list("user__email", flat=True))
            if recipients:
                send_mail(
                    subject=f"{tenant.name}: {len(keys)} API keys expire soon",
                    message=render_to_string(
                        "jobs/email/expiring_admins.txt", {"tenant": tenant, "keys": keys}
                    ),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=recipients,
                )
        self.stdout.write(
            f"Told {len(by_owner)} owners about {sum(map(len, by_owner.values()))} keys."
        )
