from playwright.sync_api import expect

from tests.browser.conftest import sign_in_to_system
from tests.factories import UserFactory


def test_root_signs_in_to_the_system_site_without_csp_violations(page, db):
    UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    sign_in_to_system(page)
    expect(page.get_by_role("heading", name="System")).to_be_visible()
    page.goto("/system/tenants/tenant/add/")
    page.get_by_label("Name:").press_sequentially("Initech")
    expect(page.get_by_label("Slug:")).to_have_value("initech")  # the admin's own script ran
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []
