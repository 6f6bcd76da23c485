from django.core.management.base import BaseCommand, CommandParser

from apikeys.partitions import purge, retention_cutoff


class Command(BaseCommand):
    help = (
        "Remove API request log entries from before the UTC day --days days ago (PostgreSQL: "
        "drops that day's partition and older ones). Daily usage counts are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--batch", type=int, default=10_000)

    def handle(self, *args: object, days: int, batch: int, **options: object) -> None:
        if days < 1:
            self.stderr.write("--days must be at least 1")
            raise SystemExit(2)
        if batch < 1:
            self.stderr.write("--batch must be at least 1")
            raise SystemExit(2)
        cutoff = retention_cutoff(days)
        purged = purge(days=days, batch=batch)
        if purged.dropped:
            first, last = purged.dropped[0], purged.dropped[-1]
            span = f"{first}" if first == last else f"{first} to {last}"
            self.stdout.write(
                f"Dropped {len(purged.dropped)} day partitions of the request log ({span})."
            )
        self.stdout.write(
            f"Deleted {purged.deleted} request log entries older than {days} days "
            f"(before {cutoff:%Y-%m-%d} 00:00 UTC)."
        )
