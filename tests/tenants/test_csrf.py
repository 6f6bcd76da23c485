"""SECURITY.md 10: every state change needs the CSRF token; HTMX sends it as a header."""

from django.urls import reverse

from tenants.models import Membership
from tests.helpers import csrf_token_for, htmx_headers


def test_a_post_without_the_token_is_refused_and_changes_nothing(admin, developer, client_for):
    client = client_for(admin)
    target = Membership.objects.get(user=developer)
    url = reverse("tenants:member_roles", args=["acme", target.pk])
    response = client.post(url, {"is_admin": "on"}, headers=htmx_headers())
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.is_admin


def test_an_htmx_post_with_the_header_succeeds(admin, developer, client_for):
    client = client_for(admin)
    target = Membership.objects.get(user=developer)
    url = reverse("tenants:member_roles", args=["acme", target.pk])
    token = csrf_token_for(client, reverse("tenants:members", args=["acme"]))
    response = client.post(url, {"is_admin": "on"}, headers=htmx_headers(token))
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.is_admin


def test_every_page_sends_the_token_on_htmx_requests(admin, client_for):
    page = client_for(admin).get(reverse("tenants:members", args=["acme"])).content.decode()
    assert '<body hx-headers=\'{"X-CSRFToken": "' in page


def test_sign_out_needs_the_token(admin, client_for):
    client = client_for(admin)
    assert client.post(reverse("logout")).status_code == 403
    token = csrf_token_for(client, reverse("tenants:home", args=["acme"]))
    assert client.post(reverse("logout"), headers={"X-CSRFToken": token}).status_code == 302
    assert client.get(reverse("tenants:home", args=["acme"])).status_code == 302
