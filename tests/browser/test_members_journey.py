from playwright.sync_api import expect

from tenants.models import Event, Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def test_an_admin_signs_in_switches_tenant_and_changes_a_role(page, acme, globex, admin):
    Membership.objects.create(user=admin, tenant=globex, is_admin=True)
    colleague = MembershipFactory(tenant=globex, user=UserFactory(email="colleague@globex.test"))

    sign_in(page, "admin@acme.test", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme MSP")

    page.get_by_label("Switch tenant").click()
    page.get_by_role("link", name="Globex").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex")

    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Edit roles of colleague@globex.test").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # The modal takes the focus, so the keyboard works inside it at once.
    expect(dialog.get_by_label("Admin")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Developer")).to_be_focused()
    page.keyboard.press("Space")
    dialog.get_by_role("button", name="Save roles").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="colleague@globex.test")
    expect(row).to_contain_text("Developer")
    expect(
        page.get_by_role("status").filter(has_text="Roles of colleague@globex.test")
    ).to_be_visible()

    colleague.refresh_from_db()
    assert colleague.is_developer and not colleague.is_admin
    assert Event.objects.filter(tenant=globex, action=Event.Action.ROLE_CHANGED).count() == 1
    assert Event.objects.filter(tenant=acme).count() == 0

    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Events").click()
    expect(page.get_by_role("row").filter(has_text="colleague@globex.test")).to_contain_text(
        "none → developer"
    )
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []


def test_a_member_sees_only_their_profile_and_escape_closes_a_dialog(page, acme, admin, member):
    sign_in(page, "member@acme.test", PASSWORD)
    nav = page.get_by_role("navigation", name="Tenant")
    expect(nav.get_by_role("link")).to_have_text(["Overview", "Profile", "API"])
    response = page.goto("/t/acme/members/")
    assert response.status == 403

    page.goto("/accounts/sign-in/")  # already signed in: sent on to the portal
    expect(page).to_have_url(f"{page.url.split('/t/')[0]}/t/acme/")
    assert page.console_watch.csp_violations() == []
