"""The keys-per-user cap under concurrent creation (SECURITY.md 18).

`select_for_update` does nothing on SQLite (there, IMMEDIATE transactions serialise
writers instead), so the race that matters is proven on PostgreSQL."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from apikeys import services
from apikeys.models import ApiKey
from tenants.models import Membership

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
PARALLEL = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_creates_at_the_cap_minus_one_make_exactly_one_key(
    developer, acme, monkeypatch
):
    acme.settings.max_keys_per_user = 5
    acme.settings.max_expiration_days = None
    acme.settings.save()
    membership = Membership.objects.get(user=developer)
    for n in range(4):
        services.api_key_create(
            membership=membership, name=f"k{n}", environment="production", scopes=["usage:read"]
        )

    # Widen the window between counting the keys and inserting the new one, so that
    # without the row lock every thread would count 4 and insert.
    generate = services.keyformat.generate

    def slow_generate(*args, **kwargs):
        time.sleep(0.05)
        return generate(*args, **kwargs)

    monkeypatch.setattr(services.keyformat, "generate", slow_generate)
    start = threading.Barrier(PARALLEL)
    made, refused, failed = [], [], []

    def create(n: int) -> None:
        try:
            start.wait()
            services.api_key_create(
                membership=membership,
                name=f"race {n}",
                environment="production",
                scopes=["usage:read"],
            )
            made.append(n)
        except ValidationError as exc:
            refused.append(exc.messages[0])
        except Exception as exc:
            failed.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    assert len(made) == 1, refused
    assert len(refused) == PARALLEL - 1
    assert all("maximum of 5" in message for message in refused), refused
    assert ApiKey.objects.filter(owner=developer).count() == 5
