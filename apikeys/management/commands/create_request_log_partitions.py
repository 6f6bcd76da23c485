from django.core.management.base import BaseCommand, CommandParser

from apikeys.partitions import AHEAD_DAYS, ensure_partitions, is_partitioned


class Command(BaseCommand):
    help = (
        "PostgreSQL: create the request log's partitions of today and the next --ahead days "
        "(UTC), and move rows the default partition holds into their days' partitions. Safe "
        "to run at any time; the task worker runs it at start and hourly. SQLite: nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, default=AHEAD_DAYS)

    def handle(self, *args: object, ahead: int, **options: object) -> None:
        if not 0 <= ahead <= 366:
            self.stderr.write("--ahead must be between 0 and 366")
            raise SystemExit(2)
        if not is_partitioned():
            self.stdout.write("The request log is not partitioned here (SQLite): nothing to do.")
            return
        created = ensure_partitions(ahead=ahead)
        if created:
            self.stdout.write(
                f"Created {len(created)} request log partitions: "
                + ", ".join(day.isoformat() for day in created)
                + "."
            )
        else:
            self.stdout.write("Every request log partition needed exists.")
