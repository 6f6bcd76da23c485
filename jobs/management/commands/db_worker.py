"""django-tasks-db's `db_worker`, which also keeps the request log's partitions.

At start, and then every `REQUEST_LOG_PARTITION_SECONDS` (an hour) from a thread of its own, the
worker runs `create_request_log_partitions` (PostgreSQL; nothing on SQLite): today's and the
next days' partitions exist before their first request, and rows that reached the default
partition move into their own days'. Any number of workers may do so at once.
"""

import io
import logging
import os
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("keyward.jobs")


def maintain_request_log() -> None:
    """Create the request log's partitions ahead; a failure is logged, never raised."""
    try:
        call_command("create_request_log_partitions", verbosity=0, stdout=io.StringIO())
    except Exception:
        logger.exception("Could not create the request log's partitions; will try again")


def _every(seconds: float) -> None:
    """The thread's loop: its own connection, closed after each run (an hour apart)."""
    while True:
        time.sleep(seconds)
        try:
            maintain_request_log()
        finally:
            connection.close()


class Command(db_worker.Command):
    help = db_worker.Command.help + ", which also creates the request log's partitions ahead"

    def handle(self, *args: object, **options: object) -> None:
        reloading = options["reload"] and not options["batch"]
        # With --reload, the process that runs tasks is the reloader's child.
        if not reloading or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            maintain_request_log()
            if not options["batch"]:
                threading.Thread(
                    target=_every,
                    args=(settings.REQUEST_LOG_PARTITION_SECONDS,),
                    name="keyward-request-log-partitions",
                    daemon=True,
                ).start()
        super().handle(*args, **options)
