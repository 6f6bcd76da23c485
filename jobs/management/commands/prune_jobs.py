from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from jobs.models import ExpiryNotice, Job


class Command(BaseCommand):
    help = "Delete finished jobs (and their files) older than --days (JOB_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.JOB_RETENTION_DAYS)

    def handle(self, *args: object, days: int, **options: object) -> None:
        cutoff = timezone.now() - timedelta(days=max(days, 1))
        old = Job.objects.filter(
            status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED], finished_at__lt=cutoff
        )
        removed = 0
        for job in old.iterator():
            if job.result:
                job.result.delete(save=False)
            job.delete()
            removed += 1
        ExpiryNotice.objects.filter(day__lt=cutoff.date()).delete()
        self.stdout.write(f"Deleted {removed} finished jobs older than {days} days.")
