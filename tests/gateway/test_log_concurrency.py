"""Two workers flushing at once must not deadlock on the usage and last-used rows."""

import threading
import time

import pytest
from django.db import close_old_connections, connection

from apikeys.models import ApiKey, KeyUsageDay
from gateway.usage import LogEntry, UsageBuffer

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-lock ordering matters on PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_workers_flushing_the_same_keys_in_opposite_orders_do_not_deadlock(new_key, acme):
    for _ in range(40):
        new_key()
    keys = list(ApiKey.objects.values_list("pk", "key_id"))
    rounds, failures = 15, []

    def worker(order) -> None:
        buffer = UsageBuffer()
        for _ in range(rounds):
            for pk, key_id in order:
                buffer.record(
                    LogEntry(
                        time.time(),
                        acme.pk,
                        pk,
                        key_id,
                        "production",
                        "GET",
                        "/api/production/v1/me",
                        200,
                        1.0,
                        None,
                    )
                )
            if buffer.flush() == 0:
                failures.append("a flush failed")
        close_old_connections()
        connection.close()

    threads = [
        threading.Thread(target=worker, args=(keys,)),
        threading.Thread(target=worker, args=(keys[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(KeyUsageDay.objects.values_list("requests", flat=True)) == 2 * rounds * len(keys)
