from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apikeys import keyformat
from apikeys.models import ApiKey, Status, today
from tenants.models import Event


def _create(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


BASE = [
    "--tenant",
    "acme",
    "--owner",
    "dev@acme.test",
    "--name",
    "CLI key",
    "--environment",
    "staging",
    "--scope",
    "customers:read",
    "--scope",
    "usage:read",
]


def test_create_prints_the_key_and_nothing_else(developer, acme):
    out, err = _create(*BASE, "--rate-limit", "30")
    secret = out.strip()
    assert out == secret + "\n" and err == ""
    key = ApiKey.objects.get(key_id=keyformat.parse(secret).key_id)
    assert key.environment == "staging" and key.rate_limit == 30
    assert key.scope_list == ["customers:read", "usage:read"]
    # Without --expires, the tenant's maximum applies.
    assert key.expires_on == today() + timedelta(days=acme.settings.max_expiration_days)
    event = Event.objects.get(action=Event.Action.KEY_CREATED)
    assert event.changes["via"] == "command line" and secret not in str(event.changes)


def test_create_obeys_the_policy(developer, member, acme):
    with pytest.raises(CommandError, match="at most 365 days"):
        _create(*BASE, "--expires", (today() + timedelta(days=400)).isoformat())
    with pytest.raises(CommandError, match="Only developers"):
        _create(*[a if a != "dev@acme.test" else "member@acme.test" for a in BASE])
    with pytest.raises(CommandError, match="not a member"):
        _create(*[a if a != "acme" else "globex" for a in BASE])
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    with pytest.raises(CommandError, match="disabled"):
        _create(*BASE)
    assert not ApiKey.objects.exists()


def test_revoke_by_key_id(developer, acme):
    secret = _create(*BASE)[0].strip()
    key_id = keyformat.parse(secret).key_id
    call_command("revoke_api_key", key_id, stderr=StringIO())
    key = ApiKey.objects.get(key_id=key_id)
    assert key.status == Status.REVOKED
    assert Event.objects.get(action=Event.Action.KEY_REVOKED).changes == {"via": "command line"}
    with pytest.raises(CommandError, match="revoked"):
        call_command("revoke_api_key", key_id)
    with pytest.raises(CommandError, match="No API key"):
        call_command("revoke_api_key", "Nope000000")
