"""`POST /api/system/v1/keys/revoke-found`: what `keyward-scan --revoke` calls."""

import json

import pytest
from django.test import Client

from apikeys import services
from apikeys.models import ApiKey, Status


@pytest.fixture
def service_key(root):
    return services.service_key_create(service_name="scanner", actor=root)[1]


def _post(key, body):
    return Client().post(
        "/api/system/v1/keys/revoke-found",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_service_key_revokes_the_live_keys_found_and_nothing_else(service_key, new_key):
    key = new_key()
    look_alike = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = _post(
        service_key,
        {"keys": [{"token": key, "found_at": "a.py:1"}, {"token": look_alike}, {"token": "x"}]},
    )
    assert response.status_code == 200
    key_id = new_key.last.key_id
    assert response.json() == {
        "keys": [
            {"key_id": key_id, "revoked": True},
            {"key_id": None, "revoked": False},
            {"key_id": None, "revoked": False},
        ]
    }
    record = ApiKey.objects.get(pk=new_key.last.pk)
    assert record.status == Status.REVOKED and record.leak_source == "a.py:1"


def test_a_tenant_key_cannot_revoke_found_keys_and_bad_bodies_are_422(service_key, new_key):
    key = new_key()
    assert _post(key, {"keys": [{"token": key}]}).status_code == 401
    for body in [{}, {"keys": []}, {"keys": ["x"]}, {"keys": [{"token": 1}]}, {"other": 1}]:
        response = _post(service_key, body)
        assert response.status_code == 422, body
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.ACTIVE
