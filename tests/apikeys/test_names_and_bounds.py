"""Names refuse control characters and invisible-only text (SECURITY.md 26); every number a
tenant admin sets has a range that cannot overflow, stated in the form (item 6)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from apikeys import services
from apikeys.models import MAX_RATE_LIMIT, ApiKey, ServiceApiKey
from customers.models import Customer, License
from tenants.models import Tenant, TenantSettings
from tests.factories import UserFactory
from tests.helpers import csrf_token_for, htmx_headers
from web.text import CONTROL_MESSAGE, INVISIBLE_MESSAGE, check_name

CREATE = reverse("apikeys:create", args=["acme"])
PROFILE = reverse("apikeys:my_keys", args=["acme"])
SETTINGS = reverse("apikeys:settings", args=["acme"])
SERVICE_KEY_ADD = reverse("admin:apikeys_serviceapikey_add")

REFUSED = {
    "right-to-left override": ("invoice\u202egpj.exe", CONTROL_MESSAGE),
    "left-to-right embedding": ("a\u202ab", CONTROL_MESSAGE),
    "first strong isolate": ("a\u2068b", CONTROL_MESSAGE),
    "pop directional isolate": ("a\u2069", CONTROL_MESSAGE),
    "NUL": ("a\x00b", CONTROL_MESSAGE),
    "tab": ("a\tb", CONTROL_MESSAGE),
    "newline": ("a\nb", CONTROL_MESSAGE),
    "DEL": ("a\x7f", CONTROL_MESSAGE),
    "C1 control": ("a\x85b", CONTROL_MESSAGE),
    "zero-width space": ("a\u200bb", CONTROL_MESSAGE),
    "byte order mark": ("\ufeffname", CONTROL_MESSAGE),
    "line separator": ("a\u2028b", CONTROL_MESSAGE),
    "lone surrogate": ("a\ud800", CONTROL_MESSAGE),
    "spaces only": ("   ", INVISIBLE_MESSAGE),
    "joiners only": ("\u200d\u200c", INVISIBLE_MESSAGE),
    "hangul fillers only": ("\u3164\u115f", INVISIBLE_MESSAGE),
    "braille blank only": ("\u2800", INVISIBLE_MESSAGE),
    "combining mark only": ("\u0301", INVISIBLE_MESSAGE),
    "empty": ("", INVISIBLE_MESSAGE),
}


@pytest.mark.parametrize(("text", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_check_name_refuses_control_and_format_characters_and_invisible_names(text, message):
    assert check_name(text) == message


@pytest.mark.parametrize(
    "text",
    ["Main Website Integration", "inventory-service", "Ünïcødé", "键", "a b", "👩\u200d💻"],
)
def test_check_name_accepts_visible_text_in_any_script(text):
    assert check_name(text) is None


@pytest.mark.parametrize("name", ["Billing\u202egnp", "\u200b", "a\x1bb"])
def test_the_key_services_refuse_such_names_on_create_rename_and_for_service_keys(
    dev_membership, acme, name
):
    acme.settings.api_keys_enabled = True
    acme.settings.max_expiration_days = None
    acme.settings.save()
    fields = {"environment": "production", "scopes": ["customers:read"]}
    with pytest.raises(ValidationError) as refused:
        services.api_key_create(membership=dev_membership, name=name, **fields)
    assert "name" in refused.value.message_dict
    key, _ = services.api_key_create(membership=dev_membership, name="Fine", **fields)
    with pytest.raises(ValidationError) as refused:
        services.api_key_update(key=key, membership=dev_membership, name=name, description="")
    assert "name" in refused.value.message_dict
    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    with pytest.raises(ValidationError) as refused:
        services.service_key_create(service_name=name, actor=root)
    assert "service_name" in refused.value.message_dict
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["Fine"]
    assert not ServiceApiKey.objects.exists()


def test_the_create_form_shows_why_a_name_is_refused(developer, client_for, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    client = client_for(developer)
    token = csrf_token_for(client, PROFILE)
    values = {
        "name": "Deploy\u202etxt.exe",
        "environment": "production",
        "scopes": ["customers:read"],
        "rate_limit": "60",
        "expires_on": "",
    }
    response = client.post(CREATE, values, headers=htmx_headers(token))
    assert response.status_code == 200
    assert CONTROL_MESSAGE in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_system_admin_form_refuses_such_a_service_name(db, client_for):
    root = UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    client = client_for(root)
    token = csrf_token_for(client, SERVICE_KEY_ADD)
    values = {"service_name": "billing\u2066-svc", "description": "", "expires_on": ""}
    response = client.post(SERVICE_KEY_ADD, values, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert CONTROL_MESSAGE in response.content.decode()
    assert not ServiceApiKey.objects.exists()


def test_customer_and_tenant_models_refuse_such_names_in_every_form(acme):
    for instance in [
        Customer(tenant=acme, environment="production", name="Initech\u202e"),
        Tenant(name="\u200b\u200b", slug="invisible"),
    ]:
        with pytest.raises(ValidationError) as refused:
            instance.full_clean()
        assert "name" in refused.value.message_dict


def _settings_values(**values):
    return {
        "api_keys_enabled": "on",
        "max_expiration_days": "90",
        "max_keys_per_user": "10",
        "default_rate_limit": "60",
    } | values


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # One message per field, whichever way the number is out of range (issue 13).
        ("max_expiration_days", "2147483647", "Enter a whole number from 1 to 3,650."),
        ("max_expiration_days", "99999999999999999999999", "Enter a whole number from 1 to 3,650."),
        ("max_expiration_days", "0", "Enter a whole number from 1 to 3,650."),
        ("default_rate_limit", "2147483648", "Enter a whole number from 1 to 100,000."),
        ("default_rate_limit", "0", "Enter a whole number from 1 to 100,000."),
    ],
)
def test_the_settings_form_refuses_numbers_outside_their_range(
    admin, client_for, acme, field, value, message
):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    response = client.post(
        SETTINGS, _settings_values(**{field: value}), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    acme.settings.refresh_from_db()
    assert (acme.settings.max_expiration_days, acme.settings.default_rate_limit) == (365, 60)


def test_the_settings_inputs_state_the_range_the_server_enforces(admin, client_for, acme):
    page = client_for(admin).get(SETTINGS).content.decode()
    assert 'name="max_expiration_days" value="365" min="1" max="3650"' in page
    assert 'name="max_keys_per_user" value="10" min="1" max="1000"' in page
    assert f'name="default_rate_limit" value="60" min="1" max="{MAX_RATE_LIMIT}"' in page
    assert "From 1 to 3,650" in page


def test_the_longest_allowed_maximum_still_gives_a_working_create_page(
    admin, developer, client_for, acme
):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    saved = client.post(
        SETTINGS, _settings_values(max_expiration_days="3650"), headers={"X-CSRFToken": token}
    )
    assert saved.status_code == 302
    page = client_for(developer).get(CREATE)
    assert page.status_code == 200
    assert f'min="1" max="{MAX_RATE_LIMIT}"' in page.content.decode()


@pytest.mark.parametrize(
    "values",
    [
        {"max_expiration_days": 2_147_483_647},
        {"max_expiration_days": 0},
        {"default_rate_limit": 0},
        {"default_rate_limit": 2_000_000},
    ],
)
def test_the_database_refuses_a_policy_outside_its_range(acme, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        TenantSettings.objects.filter(tenant=acme).update(**values)


def test_licence_seats_have_the_apis_bound_in_every_form(acme):
    customer = Customer.objects.create(tenant=acme, environment="production", name="Initech")
    with pytest.raises(ValidationError) as refused:
        License(customer=customer, seats=1_000_001).full_clean()
    assert "seats" in refused.value.message_dict
