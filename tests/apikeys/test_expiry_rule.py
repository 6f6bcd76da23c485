"""One expiry rule for a new key and a renewed one: the create form, the renew form and both
services refuse the same dates with the same words, and show the same bounds."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apikeys import services
from apikeys.forms import ApiKeyCreateForm, ApiKeyRenewForm
from apikeys.models import ApiKey, Status, today

CASES = [
    (30, 31, "This tenant allows keys to last at most 30 days"),
    (30, 0, "The expiry date must be in the future."),
    (30, -5, "The expiry date must be in the future."),
    (30, None, "This tenant requires an expiry date within 30 days."),
    (None, 0, "The expiry date must be in the future."),
    (None, None, None),
    (30, 30, None),
]


def _date(days):
    return "" if days is None else (today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("max_days", "expires_in", "message"), CASES)
def test_create_and_renew_forms_refuse_the_same_dates_with_the_same_words(
    acme, max_days, expires_in, message
):
    acme.settings.max_expiration_days = max_days
    acme.settings.save()
    create = ApiKeyCreateForm(
        {
            "name": "Checkout",
            "environment": "production",
            "scopes": ["customers:read"],
            "rate_limit": "100",
            "expires_on": _date(expires_in),
        },
        policy=acme.settings,
    )
    renew = ApiKeyRenewForm({"expires_on": _date(expires_in)}, policy=acme.settings)
    create.is_valid()
    if renew.is_valid():  # the renew form leaves the dates to the service, as the view does
        error = services.expiry_error(acme.settings, renew.cleaned_data["expires_on"])
        renew_errors = [] if error is None else [error]
    else:
        renew_errors = renew.errors["expires_on"]
    create_errors = create.errors.get("expires_on", [])
    if message is None:
        assert create_errors == [] and renew_errors == []
    else:
        assert len(create_errors) == 1 and create_errors == renew_errors
        assert create_errors[0].startswith(message)


@pytest.mark.parametrize("max_days", [30, None])
def test_both_date_fields_show_the_same_bounds_and_help(acme, max_days):
    acme.settings.max_expiration_days = max_days
    acme.settings.save()
    create = ApiKeyCreateForm(policy=acme.settings).fields["expires_on"]
    renew = ApiKeyRenewForm(policy=acme.settings).fields["expires_on"]
    assert create.widget.attrs == renew.widget.attrs
    assert (create.required, create.help_text) == (renew.required, renew.help_text)
    if max_days:
        latest = today() + timedelta(days=30)
        assert f"(until {latest:%Y-%m-%d})" in create.help_text
        assert create.widget.attrs["max"] == latest.isoformat()


def test_the_renewal_service_uses_the_create_rule(acme, developer, dev_membership, make_key):
    key, _ = make_key(developer, name="Old")
    acme.settings.refresh_from_db()
    acme.settings.max_expiration_days = 30
    acme.settings.save()
    ApiKey.objects.filter(pk=key.pk).update(expires_on=today() - timedelta(days=1))
    key.refresh_from_db()
    assert key.status == Status.EXPIRED
    too_late = today() + timedelta(days=31)
    create_errors = services.api_key_field_errors(
        tenant=acme,
        policy=acme.settings,
        name="x",
        description="",
        environment="production",
        scopes=["customers:read"],
        rate_limit=100,
        expires_on=too_late,
    )
    with pytest.raises(ValidationError) as caught:
        services.api_key_regenerate(
            key=key,
            membership=dev_membership,
            renew=True,
            expires_on=too_late,
        )
    assert caught.value.message_dict["expires_on"] == [create_errors["expires_on"]]
