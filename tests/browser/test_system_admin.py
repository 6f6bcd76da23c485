from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory


def test_root_signs_in_to_the_system_site_without_csp_violations(page, db):
    UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    page.goto("/system/")
    page.get_by_label("Email address").fill("root@keyward.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="System")).to_be_visible()
    page.goto("/system/tenants/tenant/add/")
    page.get_by_label("Name:").press_sequentially("Initech")
    expect(page.get_by_label("Slug:")).to_have_value("initech")  # the admin's own script ran
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []
