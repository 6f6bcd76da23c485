"""Fixed personas (healthchecks' hc/test.py style) shared by every test module.

acme: `admin` (admin), `developer` (developer), `member` (no role);
globex: `outsider` (admin and developer there, nothing in acme).
"""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture(autouse=True)
def _clean_state():
    """Redis outlives a test, and so do a process' key cache and request-log buffer."""
    from apikeys import keystate
    from apikeys.usage import buffer
    from apikeys.verification import verifier

    cache.clear()
    keystate.reset_state()
    verifier.clear()
    buffer.discard()
    yield
    verifier.clear()
    buffer.discard()
    keystate.reset_state()
    cache.clear()


@pytest.fixture
def acme(db):
    return TenantFactory(slug="acme", name="Acme MSP")


@pytest.fixture
def globex(db):
    return TenantFactory(slug="globex", name="Globex")


@pytest.fixture
def admin(acme):
    return MembershipFactory(
        tenant=acme, user=UserFactory(email="admin@acme.test"), is_admin=True
    ).user


@pytest.fixture
def developer(acme):
    return MembershipFactory(
        tenant=acme, user=UserFactory(email="dev@acme.test"), is_developer=True
    ).user


@pytest.fixture
def member(acme):
    return MembershipFactory(tenant=acme, user=UserFactory(email="member@acme.test")).user


@pytest.fixture
def outsider(globex):
    return MembershipFactory(
        tenant=globex,
        user=UserFactory(email="owner@globex.test"),
        is_admin=True,
        is_developer=True,
    ).user


@pytest.fixture
def personas(admin, developer, member, outsider):
    return {"admin": admin, "developer": developer, "member": member, "outsider": outsider}


@pytest.fixture
def client_for():
    """A CSRF-enforcing client signed in as `user` (or anonymous for None)."""

    def make(user=None) -> Client:
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        return client

    return make
