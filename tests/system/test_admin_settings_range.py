"""The system admin's tenant settings say one range per number, as the portal's Settings page
does: the input's min and max, the help text and every error ("Enter a whole number from 1 to
1,000."), never "≥ 0" for -5 and then "≥ 1" for 0."""

import pytest
from django.urls import reverse

from tenants.models import Membership, TenantSettings
from tests.system.test_admin_write_path import _post_change

RANGES = {
    "max_keys_per_user": (1, 1000, "Enter a whole number from 1 to 1,000."),
    "default_rate_limit": (1, 100_000, "Enter a whole number from 1 to 100,000."),
    "max_expiration_days": (1, 3650, "Enter a whole number from 1 to 3,650."),
}


@pytest.fixture
def root_client(root, client_for):
    return client_for(root)


@pytest.mark.parametrize("field", list(RANGES))
@pytest.mark.parametrize("value", ["-5", "0", "1000001", "abc"])
def test_every_refused_number_gets_the_one_range_message(root_client, acme, field, value):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    before = TenantSettings.objects.get(tenant=acme)
    response = _post_change(root_client, url, **{f"settings-0-{field}": value})
    assert response.status_code == 200  # the page again, with its errors
    body = response.content.decode()
    assert RANGES[field][2] in body
    assert "greater than or equal" not in body and "less than or equal" not in body
    after = TenantSettings.objects.get(tenant=acme)
    assert getattr(after, field) == getattr(before, field)


@pytest.mark.parametrize("field", list(RANGES))
def test_the_inputs_bounds_and_help_state_the_same_range_as_the_settings_page(
    root_client, admin_client, acme, field
):
    low, high, _ = RANGES[field]
    page = root_client.get(reverse("admin:tenants_tenant_change", args=[acme.pk]))
    form = next(
        inline.formset.forms[0]
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.prefix == "settings"
    )
    admin_field = form.fields[field]
    assert (admin_field.min_value, admin_field.max_value) == (low, high)
    assert f'name="settings-0-{field}"' in page.content.decode()
    portal = admin_client.get(reverse("apikeys:settings", args=["acme"]))
    portal_field = portal.context["form"].fields[field]
    assert admin_field.help_text == portal_field.help_text
    assert admin_field.error_messages["min_value"] == portal_field.error_messages["min_value"]
    assert (admin_field.widget.attrs["min"], admin_field.widget.attrs["max"]) == (low, high)


def test_a_members_locked_user_offers_no_add_change_or_view_links(root_client, acme, admin):
    body = root_client.get(reverse("admin:tenants_tenant_change", args=[acme.pk])).content
    body = body.decode()
    # The existing rows' user is locked: nothing beside it; the empty row still offers them.
    assert 'id="change_id_memberships-0-user"' not in body
    assert 'id="add_id_memberships-0-user"' not in body
    assert 'id="view_id_memberships-0-user"' not in body
    empty_row = Membership.objects.filter(tenant=acme).count()
    assert f'id="add_id_memberships-{empty_row}-user"' in body
