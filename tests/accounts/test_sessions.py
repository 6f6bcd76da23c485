"""The profile's sessions: each sign-in listed with its device, address and times; any other
can be signed out, or all of them; a password change or reset signs out the rest."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import sessions
from accounts.models import UserSession
from tests.factories import PASSWORD
from tests.helpers import csrf_token_for

PROFILE = reverse("apikeys:my_keys", args=["acme"])
LOGIN = reverse("login")
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def signed_in(user, user_agent=CHROME, address="203.0.113.7") -> Client:
    """A browser that signed in through the form, as a person does."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    token = csrf_token_for(client, LOGIN)
    response = client.post(
        LOGIN, {"username": user.email, "password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 302
    client.token = csrf_token_for(client, PROFILE)
    return client


def is_signed_in(client: Client) -> bool:
    return client.get(PROFILE).status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME, "Chrome on Linux"),
        (FIREFOX, "Firefox on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
            "Chrome on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (CHROME.replace("Safari/537.36", "Safari/537.36 Edg/131.0"), "Edge on Linux"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("\x00" * 5000, "Unknown device"),
    ],
)
def test_the_device_is_read_from_the_user_agent(user_agent, device):
    assert sessions.device_label(user_agent) == device


def test_a_sign_in_starts_a_listed_session_and_a_sign_out_ends_it(developer):
    client = signed_in(developer)
    row = UserSession.objects.get(user=developer)
    assert (row.device, row.ip_address) == ("Chrome on Linux", "203.0.113.7")
    assert row.session_key == client.session.session_key
    page = client.get(PROFILE).content.decode()
    assert "Chrome on Linux" in page and "This device" in page and "203.0.113.7" in page
    # Never the engine's key, which would let a reader take over the session.
    assert row.session_key not in page
    client.post(reverse("logout"), headers={"X-CSRFToken": client.token})
    assert not UserSession.objects.exists()


def test_signing_out_another_session_ends_it_at_its_next_request(developer):
    laptop = signed_in(developer)
    phone = signed_in(developer, user_agent=FIREFOX, address="198.51.100.2")
    page = laptop.get(PROFILE).content.decode()
    assert "Firefox on Windows" in page and "Sign out all other sessions" in page
    other = UserSession.objects.get(device="Firefox on Windows")
    response = laptop.post(
        reverse("session_sign_out", args=[other.pk]),
        {"next": PROFILE},
        headers={"X-CSRFToken": laptop.token},
    )
    assert response.status_code == 302 and response["Location"] == PROFILE
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)
    assert list(UserSession.objects.values_list("device", flat=True)) == ["Chrome on Linux"]


def test_this_session_and_other_users_sessions_cannot_be_signed_out_by_id(developer, admin):
    laptop = signed_in(developer)
    signed_in(admin)
    mine = UserSession.objects.get(user=developer)
    theirs = UserSession.objects.get(user=admin)
    for target in (mine.pk, theirs.pk, 999999, "x", "\uff11"):
        response = laptop.post(
            reverse("session_sign_out", args=[target]), headers={"X-CSRFToken": laptop.token}
        )
        assert response.status_code == 404, target
    assert UserSession.objects.count() == 2
    assert laptop.get(reverse("session_sign_out", args=[theirs.pk])).status_code == 405


def test_sign_out_needs_the_csrf_token_and_a_signed_in_user(developer):
    laptop = signed_in(developer)
    signed_in(developer, user_agent=FIREFOX)
    assert laptop.post(reverse("sessions_sign_out")).status_code == 403
    assert UserSession.objects.count() == 2
    anonymous = Client()
    assert anonymous.post(reverse("sessions_sign_out")).status_code == 302
    assert UserSession.objects.count() == 2


def test_sign_out_all_others_keeps_this_one(developer, admin):
    laptop = signed_in(developer)
    phone = signed_in(developer, user_agent=FIREFOX)
    tablet = signed_in(developer, user_agent="Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X)")
    someone_else = signed_in(admin)
    response = laptop.post(
        reverse("sessions_sign_out"),
        {"next": "https://evil.test/"},
        headers={"X-CSRFToken": laptop.token},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert "2 other sessions signed out." in laptop.get(PROFILE).content.decode()
    assert [is_signed_in(c) for c in (laptop, phone, tablet, someone_else)] == [
        True,
        False,
        False,
        True,
    ]


def test_a_password_change_signs_out_every_other_session_and_keeps_this_one(developer):
    laptop = signed_in(developer)
    phone = signed_in(developer, user_agent=FIREFOX)
    token = csrf_token_for(laptop, reverse("password_change"))
    response = laptop.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Tr0ub4dor&3-long-enough",
            "new_password2": "Tr0ub4dor&3-long-enough",
        },
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302
    assert is_signed_in(laptop) and not is_signed_in(phone)
    # This session got a new key; its row followed it.
    row = UserSession.objects.get(user=developer)
    assert row.session_key == laptop.session.session_key and row.device == "Chrome on Linux"


def test_a_password_reset_signs_out_every_session(developer):
    laptop = signed_in(developer)
    uid = urlsafe_base64_encode(force_bytes(developer.pk))
    developer.refresh_from_db()  # the sign-in set last_login, which the token covers
    token = default_token_generator.make_token(developer)
    browser = Client()
    url = reverse("password_reset_confirm", args=[uid, token])
    form = browser.get(url, follow=True)
    assert "new_password1" in form.content.decode()
    response = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else url,
        {"new_password1": "Tr0ub4dor&3-long-enough", "new_password2": "Tr0ub4dor&3-long-enough"},
    )
    assert response.status_code == 302
    assert not is_signed_in(laptop) and not UserSession.objects.exists()


def test_a_password_a_system_admin_sets_signs_out_every_session_of_the_user(
    developer, root, client_for
):
    laptop = signed_in(developer)
    admin = client_for(root)
    url = reverse("admin:auth_user_password_change", args=[developer.pk])
    token = csrf_token_for(admin, url)
    new = "Tr0ub4dor&3-long-enough"
    response = admin.post(url, {"password1": new, "password2": new}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert not UserSession.objects.filter(user=developer).exists()
    assert not is_signed_in(laptop)
    # The admin's own session is untouched.
    assert admin.get(reverse("admin:index")).status_code == 200


def test_end_sessions_keeps_the_one_named(developer):
    laptop = signed_in(developer)
    phone = signed_in(developer, user_agent=FIREFOX)
    assert sessions.end_sessions(developer, keep_session_key=phone.session.session_key) == 1
    assert not is_signed_in(laptop) and is_signed_in(phone)
    assert sessions.end_sessions(developer) == 1
    assert not is_signed_in(phone)


def test_last_seen_is_written_at_most_once_a_minute(developer, django_assert_max_num_queries):
    client = signed_in(developer)
    start = UserSession.objects.get().last_seen_at
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        client.get(PROFILE, REMOTE_ADDR="198.51.100.9")
    row = UserSession.objects.get()
    assert (row.last_seen_at, row.ip_address) == (start, "203.0.113.7")
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        client.get(PROFILE, REMOTE_ADDR="198.51.100.9")
    row = UserSession.objects.get()
    assert row.last_seen_at > start and row.ip_address == "198.51.100.9"


def test_a_session_whose_row_was_ended_is_signed_out_at_its_next_check(developer):
    """An engine that cannot delete a session (signed cookies) still loses it."""
    client = signed_in(developer)
    UserSession.objects.all().delete()
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert not is_signed_in(client)


def test_a_session_from_before_the_list_is_adopted(developer):
    client = signed_in(developer)
    session = client.session
    del session[sessions.ROW_KEY]
    session.save()
    UserSession.objects.all().delete()
    assert is_signed_in(client)
    assert UserSession.objects.get().session_key == client.session.session_key
