"""Licences in Chromium: an admin assigns and unassigns them (mouse and keyboard), the profile
says what is missing and who fixes it, seed 003's path from the user menu to a new key, and the
admin's Overview cards. Screenshots of each page at both sizes go to test-artifacts/."""

from playwright.sync_api import expect

from tenants.models import Event, Membership
from tests.browser.conftest import ARTIFACTS, sign_in, sign_in_to_system
from tests.factories import PASSWORD

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _screenshots(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=ARTIFACTS / f"{name}-{size}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def _settled(page) -> None:
    """Wait until htmx has finished swapping and settling (the new content is bound)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_an_admin_assigns_and_unassigns_licences_with_the_mouse_and_the_keyboard(
    page, acme, admin, developer, member
):
    acme.user_licenses = 2
    acme.save()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Members").click()
    count = page.locator("#license-count")
    expect(count).to_have_text("1 of 2 licences assigned")

    page.get_by_role("button", name="Assign a licence to member@acme.test").click()
    expect(count).to_have_text("2 of 2 licences assigned")
    expect(page.get_by_role("row").filter(has_text="member@acme.test")).to_contain_text("Licensed")
    expect(page.get_by_role("status").filter(has_text="now holds a licence")).to_be_visible()
    # Every licence is taken: the others cannot be assigned one.
    expect(page.get_by_role("button", name="Assign a licence to admin@acme.test")).to_be_disabled()
    _screenshots(page, "members-licences")

    # The keyboard: Enter on the button, and the focus stays on it after the table redraws.
    # (htmx binds the new table when it settles, ~20 ms after the swap; a person is slower
    # than that, a test waits for it.)
    unassign = page.get_by_role("button", name="Unassign the licence of member@acme.test")
    unassign.focus()
    page.keyboard.press("Enter")
    expect(count).to_have_text("1 of 2 licences assigned")
    assign = page.get_by_role("button", name="Assign a licence to member@acme.test")
    expect(assign).to_be_focused()
    _settled(page)
    page.keyboard.press("Space")
    expect(count).to_have_text("2 of 2 licences assigned")
    expect(
        page.get_by_role("button", name="Unassign the licence of member@acme.test")
    ).to_be_focused()

    assert Membership.objects.get(user=member).has_license
    actions = list(
        Event.objects.filter(tenant=acme, target_name="member@acme.test")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assigned, unassigned = "member.license_assigned", "member.license_unassigned"
    assert actions == [assigned, unassigned, assigned]
    assert page.console_watch.errors == []


def test_seed_003s_path_from_the_user_menu_to_a_new_key(page, acme, admin, developer):
    sign_in(page, "dev@acme.test", PASSWORD)
    # "Click your profile in the top right corner and select Profile settings."
    page.get_by_label("Account menu").click()
    expect(page.get_by_role("link", name="Profile settings")).to_be_visible()
    _screenshots(page, "usermenu-profile-settings")
    page.get_by_role("link", name="Profile settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    # "Select API keys."
    page.get_by_role("navigation", name="Profile sections").get_by_role(
        "link", name="API keys"
    ).click()
    expect(page.get_by_role("heading", name="My API keys")).to_be_in_viewport()
    # "Click Generate new key."
    page.get_by_role("link", name="Create API key").first.click()
    expect(page.get_by_role("dialog", name="Create API key")).to_be_visible()
    assert page.console_watch.errors == []


def test_the_profile_tells_a_member_what_is_missing_and_whom_to_ask(page, acme, admin, member):
    sign_in(page, "member@acme.test", PASSWORD)
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Profile settings").click()
    note = page.get_by_role("note").filter(has_text="You cannot generate API keys yet")
    expect(note).to_contain_text("Two of the three requirements are missing")
    expect(note.locator("li").filter(has_text="A licence")).to_contain_text("Missing")
    expect(note.locator("li").filter(has_text="The developer role")).to_contain_text("Missing")
    expect(note.locator("li").filter(has_text="API keys enabled")).to_contain_text("Done")
    expect(note.get_by_role("link", name="admin@acme.test")).to_have_attribute(
        "href", "mailto:admin@acme.test"
    )
    expect(page.get_by_role("link", name="Create API key")).to_have_count(0)
    _screenshots(page, "profile-member-requirements")
    assert page.console_watch.errors == []


def test_an_admin_follows_the_profiles_link_and_licenses_themself(page, acme, admin):
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Profile settings").click()
    note = page.get_by_role("note").filter(has_text="You cannot generate API keys yet")
    expect(note).to_contain_text("All three requirements are missing")
    expect(note.get_by_role("link", name="Settings")).to_have_attribute("href", "/t/acme/settings/")
    _screenshots(page, "profile-admin-requirements")
    # The keyboard reaches the link and follows it.
    link = note.get_by_role("link", name="Members page").first
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    page.get_by_role("button", name="Assign a licence to admin@acme.test").click()
    expect(page.locator("#license-count")).to_have_text("1 of 10 licences assigned")
    page.goto("/t/acme/profile/")
    expect(note.locator("li").filter(has_text="A licence")).to_contain_text("Done")
    expect(note).to_contain_text("Two of the three requirements are missing")
    assert page.console_watch.errors == []


def test_the_admins_overview_has_api_keys_and_settings_cards(page, acme, admin, developer, new_key):
    new_key()
    sign_in(page, "admin@acme.test", PASSWORD)
    keys = page.get_by_role("region", name="API keys")
    expect(keys).to_contain_text("1 key in all.")
    settings = page.get_by_role("region", name="Settings")
    expect(settings).to_contain_text("1 of 10 assigned")
    _screenshots(page, "overview-admin")
    keys.get_by_role("link", name="Open the API keys console").click()
    expect(page).to_have_url(f"{page.url.split('/t/')[0]}/t/acme/keys/")
    assert page.console_watch.errors == []


def test_the_system_admin_sets_licences_and_cannot_go_below_those_assigned(
    page, acme, admin, developer, root
):
    sign_in_to_system(page)
    page.goto(f"/system/tenants/tenant/{acme.pk}/change/")
    field = page.get_by_label("User licences:")
    expect(field).to_have_value("10")
    field.fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(
        page.get_by_text("1 licence is assigned in this tenant: keep at least 1")
    ).to_be_visible()
    _screenshots(page, "system-tenant-licences")
    page.get_by_label("User licences:").fill("3")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    acme.refresh_from_db()
    assert acme.user_licenses == 3
    assert Event.objects.filter(action=Event.Action.TENANT_LICENSES_CHANGED).count() == 1
    assert page.console_watch.csp_violations() == []
