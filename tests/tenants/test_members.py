import json
import re

from django.core import mail
from django.urls import reverse

from accounts.models import User
from tenants.models import Event, Membership
from tests.helpers import csrf_token_for, htmx_headers

MEMBERS = reverse("tenants:members", args=["acme"])
ADD = reverse("tenants:member_add", args=["acme"])


def _roles_url(membership: Membership) -> str:
    return reverse("tenants:member_roles", args=["acme", membership.pk])


def _remove_url(membership: Membership) -> str:
    return reverse("tenants:member_remove", args=["acme", membership.pk])


def _roles_shown(page: str) -> dict[str, list[str]]:
    """Each row of the members table: the email, and the role badges beside it."""
    rows = re.findall(r"<tr>\s*<td>([^<\s]+).*?</td>\s*<td>(.*?)</td>", page, re.S)
    badge = re.compile(r'class="badge badge-role">([^<]+)<')
    return {email: badge.findall(badges) for email, badges in rows}


def test_it_lists_members_with_their_roles(admin_client, developer, member):
    page = admin_client.get(MEMBERS).content.decode()
    assert _roles_shown(page) == {
        "admin@acme.test": ["Admin"],
        "dev@acme.test": ["Developer"],
        "member@acme.test": ["Member"],
    }


def test_it_adds_an_existing_user_with_roles(admin_client, outsider, acme):
    response = admin_client.post(
        ADD,
        {"email": "OWNER@globex.test", "is_developer": "on"},
        headers={"X-CSRFToken": admin_client.token},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=outsider, tenant=acme)
    assert (membership.is_admin, membership.is_developer) == (False, True)
    event = Event.objects.get(action=Event.Action.MEMBER_ADDED)
    assert event.tenant == acme and event.target_name == "owner@globex.test"
    assert mail.outbox == []


def test_an_unknown_email_gets_an_invitation_that_sets_a_password(
    admin_client, acme, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            ADD, {"email": "new@acme.test"}, headers={"X-CSRFToken": admin_client.token}
        )
    assert response.status_code == 302
    user = User.objects.get(email="new@acme.test")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, tenant=acme, is_admin=False).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@acme.test"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    visitor = client_for(None)
    form_page = visitor.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and "Set a new password" in form_page.content.decode()
    token = str(form_page.context["csrf_token"])
    done = visitor.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-fresh-secret-9", "new_password2": "a-long-fresh-secret-9"},
        headers={"X-CSRFToken": token},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-fresh-secret-9")
    assert Event.objects.filter(action=Event.Action.MEMBER_INVITED, target_name=user.email).exists()


def test_adding_someone_twice_shows_a_field_error_and_changes_nothing(admin_client, developer):
    before = Event.objects.count()
    response = admin_client.post(
        ADD, {"email": "dev@acme.test"}, headers={"X-CSRFToken": admin_client.token}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Event.objects.count() == before
    assert Membership.objects.filter(user=developer).count() == 1


def test_a_bad_email_is_a_field_error(admin_client):
    response = admin_client.post(
        ADD, {"email": "not-an-email"}, headers=htmx_headers(admin_client.token)
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid email address" in body
    assert "<html" not in body  # the HTMX answer is the panel, not the page
    assert not User.objects.filter(email="not-an-email").exists()


def test_an_htmx_add_answers_with_the_panel_and_a_toast(admin_client, outsider):
    response = admin_client.post(
        ADD, {"email": "owner@globex.test"}, headers=htmx_headers(admin_client.token)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="members-panel"')
    assert "owner@globex.test" in body
    assert 'hx-swap-oob="beforeend"' in body and "was added" in body


def test_roles_form_opens_as_a_dialog_fragment_for_htmx(admin_client, developer):
    target = Membership.objects.get(user=developer)
    response = admin_client.get(_roles_url(target), headers=htmx_headers())
    body = response.content.decode()
    assert body.lstrip().startswith("<dialog")
    assert "<html" not in body
    assert 'name="is_developer"' in body and "checked" in body


def test_an_admin_changes_roles_and_an_event_records_it(admin_client, developer, admin):
    target = Membership.objects.get(user=developer)
    response = admin_client.post(
        _roles_url(target),
        {"is_admin": "on", "is_developer": "on"},
        headers=htmx_headers(admin_client.token),
    )
    assert response.status_code == 200
    # The members table refetches itself on memberChanged; the dialog closes.
    assert list(json.loads(response["HX-Trigger"])) == ["memberChanged", "closeModal"]
    assert "Roles of dev@acme.test were saved." in response.content.decode()
    table = admin_client.get(MEMBERS, headers=htmx_headers()).content.decode()
    assert table.lstrip().startswith('<section id="members-table"')
    assert 'hx-trigger="memberChanged from:body"' in table
    target.refresh_from_db()
    assert target.is_admin and target.is_developer
    event = Event.objects.get(action=Event.Action.ROLE_CHANGED)
    assert event.actor == admin and event.actor_email == "admin@acme.test"
    assert event.changes == {"roles": {"before": ["developer"], "after": ["admin", "developer"]}}
    assert event.ip_address == "127.0.0.1"


def test_an_admin_may_give_themself_the_developer_role(admin_client, admin):
    own = Membership.objects.get(user=admin)
    admin_client.post(
        _roles_url(own),
        {"is_admin": "on", "is_developer": "on"},
        headers={"X-CSRFToken": admin_client.token},
    )
    own.refresh_from_db()
    assert own.is_admin and own.is_developer


def test_the_last_admin_cannot_be_demoted(admin_client, admin):
    own = Membership.objects.get(user=admin)
    response = admin_client.post(
        _roles_url(own), {"is_developer": "on"}, headers=htmx_headers(admin_client.token)
    )
    assert response.status_code == 200
    assert "last admin" in response.content.decode()
    own.refresh_from_db()
    assert own.is_admin and not own.is_developer
    assert not Event.objects.filter(action=Event.Action.ROLE_CHANGED).exists()


def test_the_last_admin_cannot_be_removed(admin_client, admin):
    own = Membership.objects.get(user=admin)
    response = admin_client.post(_remove_url(own), headers=htmx_headers(admin_client.token))
    assert "last admin" in response.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()


def test_an_admin_removes_a_member_and_the_event_stays(admin_client, member, acme):
    target = Membership.objects.get(user=member)
    response = admin_client.post(_remove_url(target), headers={"X-CSRFToken": admin_client.token})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert User.objects.filter(pk=member.pk).exists()
    assert Event.objects.get(action=Event.Action.MEMBER_REMOVED).target_name == "member@acme.test"


def test_a_second_admin_can_leave_and_loses_access(admin, developer, client_for):
    Membership.objects.filter(user=developer).update(is_admin=True)
    client = client_for(developer)
    token = csrf_token_for(client, MEMBERS)
    own = Membership.objects.get(user=developer)
    response = client.post(_remove_url(own), headers=htmx_headers(token))
    assert response["HX-Redirect"] == "/"
    assert client.get(MEMBERS).status_code == 404


def test_remove_asks_for_confirmation_first(admin_client, member):
    target = Membership.objects.get(user=member)
    body = admin_client.get(_remove_url(target), headers=htmx_headers()).content.decode()
    assert "Remove <strong>member@acme.test</strong>" in body
    assert Membership.objects.filter(pk=target.pk).exists()


def test_an_htmx_remove_announces_member_changed_and_closes_the_dialog(admin_client, member):
    target = Membership.objects.get(user=member)
    response = admin_client.post(_remove_url(target), headers=htmx_headers(admin_client.token))
    assert list(json.loads(response["HX-Trigger"])) == ["memberChanged", "closeModal"]
    assert response["HX-Reswap"] == "none"
    assert not Membership.objects.filter(pk=target.pk).exists()
