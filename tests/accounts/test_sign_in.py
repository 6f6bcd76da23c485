import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import csrf_token_for

LOGIN = reverse("login")
WRONG = "The email or password is not correct."


def _sign_in(client, email, password, ip="10.0.0.1"):
    token = csrf_token_for(client, LOGIN)
    return client.post(
        LOGIN,
        {"username": email, "password": password},
        headers={"X-CSRFToken": token},
        REMOTE_ADDR=ip,
    )


def test_a_user_signs_in_with_email_and_password(admin, client_for):
    client = client_for(None)
    response = _sign_in(client, "Admin@ACME.test", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("tenants:home", args=["acme"])).status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(admin, client_for):
    wrong_password = _sign_in(client_for(None), "admin@acme.test", "nope", ip="10.0.0.2")
    unknown_email = _sign_in(client_for(None), "nobody@acme.test", "nope", ip="10.0.0.3")
    assert wrong_password.status_code == unknown_email.status_code == 200
    assert WRONG in wrong_password.content.decode()
    assert WRONG in unknown_email.content.decode()


def test_an_inactive_user_gets_the_same_answer(admin, client_for):
    User.objects.filter(pk=admin.pk).update(is_active=False)
    response = _sign_in(client_for(None), "admin@acme.test", PASSWORD)
    assert WRONG in response.content.decode()


def test_an_account_is_locked_after_five_failures_from_any_addresses(admin, client_for, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client_for(None), "admin@acme.test", "wrong", ip=f"10.1.0.{n}")
    # The right password from yet another address is refused while the lock holds.
    response = _sign_in(client_for(None), "admin@acme.test", PASSWORD, ip="10.1.1.1")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Another account from a fresh address is unaffected.
    UserFactory(email="other@acme.test")
    assert _sign_in(client_for(None), "other@acme.test", PASSWORD, ip="10.1.1.2").status_code == 302


def test_an_address_is_locked_after_five_failures_on_any_accounts(admin, client_for, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client_for(None), f"guess{n}@acme.test", "wrong", ip="10.2.0.9")
    response = _sign_in(client_for(None), "admin@acme.test", PASSWORD, ip="10.2.0.9")
    assert response.status_code == 429


def test_unknown_emails_are_locked_like_known_ones(client_for, settings, db):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client_for(None), "ghost@acme.test", "wrong", ip=f"10.3.0.{n}")
    response = _sign_in(client_for(None), "ghost@acme.test", "wrong", ip="10.3.1.1")
    assert response.status_code == 429


def test_a_password_reset_mails_known_users_and_looks_the_same_for_unknown(admin, client_for):
    client = client_for(None)
    url = reverse("password_reset")
    token = csrf_token_for(client, url)
    known = client.post(url, {"email": "admin@acme.test"}, headers={"X-CSRFToken": token})
    unknown = client.post(url, {"email": "nobody@acme.test"}, headers={"X-CSRFToken": token})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["admin@acme.test"]]
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_a_user_changes_their_password(admin, client_for):
    client = client_for(admin)
    url = reverse("password_change")
    token = csrf_token_for(client, url)
    response = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret-7",
            "new_password2": "another-long-secret-7",
        },
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password("another-long-secret-7")


def test_emails_are_unique_whatever_their_case(db):
    User.objects.create_user("Someone@Example.test", "x")
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.create(email="SOMEONE@example.TEST")
