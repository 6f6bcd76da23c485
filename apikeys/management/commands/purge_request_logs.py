from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apikeys.models import RequestLog
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Delete API request log entries older than --days (daily usage counts are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--batch", type=int, default=10_000)

    def handle(self, *args: object, days: int, batch: int, **options: object) -> None:
        if days < 1:
            self.stderr.write("--days must be at least 1")
            raise SystemExit(2)
        cutoff = timezone.now() - timedelta(days=days)
        deleted = 0
        # Tenant by tenant (and the system API's entries, which have none), so that each
        # batch is found through the (tenant, created_at) index.
        for tenant_id in [None, *Tenant.objects.order_by("pk").values_list("pk", flat=True)]:
            old = RequestLog.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
            while True:
                # In batches, so a large purge never holds one long transaction.
                ids = list(old.values_list("pk", flat=True)[:batch])
                if not ids:
                    break
                deleted += RequestLog.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(f"Deleted {deleted} request log entries older than {days} days.")
