"""The last licence under concurrent assignment: the tenant's row lock lets exactly one
through (PostgreSQL; `select_for_update` does nothing on SQLite)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from tenants import services
from tenants.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)
PARALLEL = 8


@pytest.mark.django_db(transaction=True)
def test_parallel_assignments_of_the_last_licence_give_it_to_exactly_one(
    acme, admin, developer, monkeypatch
):
    # Widen the window between counting the licences and saving the assignment, so that
    # without the row lock every thread would count 1 and assign.
    count = services.licenses_assigned

    def slow_count(**kwargs) -> int:
        found = count(**kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(services, "licenses_assigned", slow_count)
    acme.user_licenses = 2  # the developer holds one: one is left
    acme.save()
    members = [MembershipFactory(tenant=acme) for _ in range(PARALLEL)]
    start = threading.Barrier(PARALLEL)
    made, refused, failed = [], [], []

    def assign(membership: Membership) -> None:
        try:
            start.wait()
            services.member_set_license(membership=membership, licensed=True, actor=admin)
            made.append(membership.pk)
        except ValidationError as exc:
            refused.append(exc.messages[0])
        except Exception as exc:
            failed.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=assign, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    assert len(made) == 1, refused
    assert all("All 2 licences of Acme MSP are assigned" in m for m in refused), refused
    assert Membership.objects.filter(tenant=acme, has_license=True).count() == 2
