import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey, today
from tenants.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import htmx_headers

CONSOLE = reverse("apikeys:console", args=["acme"])
BULK = reverse("apikeys:bulk_revoke", args=["acme"])


@pytest.fixture
def keys(make_key, developer, acme, admin):
    """A small, varied tenant: five keys of two owners, plus one of another tenant."""
    other = MembershipFactory(
        tenant=acme, is_developer=True, user=UserFactory(email="ops@acme.test")
    )
    acme.settings.max_expiration_days = None
    acme.settings.max_keys_per_user = 1000
    acme.settings.save()
    made = {
        "website": make_key(
            developer, name="Main Website Integration", scopes=["customers:read", "customers:write"]
        )[0],
        "staging": make_key(
            developer,
            name="Staging sync",
            environment="staging",
            scopes=["usage:read"],
            expires_on=today() + timedelta(days=3),
        )[0],
        "telemetry": make_key(
            other.user,
            name="Telemetry collector",
            environment="development",
            scopes=["telemetry:write"],
            expires_on=today() + timedelta(days=60),
        )[0],
        "billing": make_key(other.user, name="Billing export", scopes=["licenses:manage"])[0],
        "legacy": make_key(developer, name="Legacy import", scopes=["customers:write"])[0],
    }
    admin_membership = Membership.objects.get(user=admin)
    services.api_key_revoke(key=made["billing"], membership=admin_membership)
    services.api_key_disable(key=made["telemetry"], membership=admin_membership)
    ApiKey.objects.filter(pk=made["legacy"].pk).update(expires_on=today() - timedelta(days=1))
    ApiKey.objects.filter(pk=made["website"].pk).update(
        last_used_at=timezone.now() - timedelta(hours=1)
    )
    ApiKey.objects.filter(pk=made["staging"].pk).update(
        last_used_at=timezone.now() - timedelta(days=2)
    )
    return made


def _names(client, query: str = "", htmx: bool = True) -> list[str]:
    response = client.get(CONSOLE + query, headers=htmx_headers() if htmx else {})
    assert response.status_code == 200
    return [key.name for key in response.context["page"].object_list]


def test_the_console_lists_every_key_of_the_tenant_only(
    admin_client, keys, outsider, globex, make_key
):
    make_key(outsider, tenant=globex, name="Globex secret integration")
    names = _names(admin_client)
    assert sorted(names) == sorted(key.name for key in keys.values())
    page = admin_client.get(CONSOLE).content.decode()
    # Key ID and owner sit under the name, on a second line (issue 13: the table fits).
    for key in keys.values():
        assert f'<code title="Key ID">{key.key_id}</code>' in page
    assert "ops@acme.test</span>" in page and "dev@acme.test</span>" in page
    for column in (
        "Name",
        "Environment",
        "Permissions",
        "Rate limit",
        "Status",
        "Created",
        "Last updated",
        "Expires",
        "Last used",
        "Last 7 days",
    ):
        assert f">{column}<" in page, column
    assert "Customer Read, Customer Write" in page
    for badge in ("Active", "Inactive", "Expired", "Revoked", "Expiring soon"):
        assert f">{badge}</span>" in page, badge


def test_search_matches_name_key_id_and_owner_email(admin_client, keys):
    assert _names(admin_client, "?q=website") == ["Main Website Integration"]
    assert _names(admin_client, f"?q={keys['staging'].key_id}") == ["Staging sync"]
    assert sorted(_names(admin_client, "?q=ops@acme")) == ["Billing export", "Telemetry collector"]
    assert _names(admin_client, "?q=nothing-like-this") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=active", {"Main Website Integration", "Staging sync"}),
        ("?status=inactive", {"Telemetry collector"}),
        ("?status=expired", {"Legacy import"}),
        ("?status=revoked", {"Billing export"}),
        ("?environment=staging", {"Staging sync"}),
        ("?expiration=expiring_soon", {"Staging sync"}),
        ("?expiration=expired", {"Legacy import"}),
        (
            "?expiration=valid",
            {"Main Website Integration", "Telemetry collector", "Billing export"},
        ),
        ("?owner=ops@acme.test", {"Telemetry collector", "Billing export"}),
        ("?owner=OPS@", {"Telemetry collector", "Billing export"}),
        ("?owner=dev@acme", {"Main Website Integration", "Staging sync", "Legacy import"}),
        ("?owner=outsider", set()),
        ("?permission=customers:write", {"Main Website Integration", "Legacy import"}),
        ("?status=active&permission=usage:read", {"Staging sync"}),
    ],
)
def test_filters_narrow_the_list(admin_client, keys, query, expected):
    assert set(_names(admin_client, query)) == expected


def test_sorting_by_name_and_by_last_used(admin_client, keys):
    by_name = _names(admin_client, "?sort=name")
    assert by_name == sorted(by_name)
    assert _names(admin_client, "?sort=-name") == by_name[::-1]
    assert _names(admin_client, "?sort=-last_used")[:2] == [
        "Main Website Integration",
        "Staging sync",
    ]
    for sort in ("created", "-created", "updated", "-updated", "expires", "-expires"):
        assert len(_names(admin_client, f"?sort={sort}")) == 5


def test_bad_filter_values_are_ignored_with_a_message(admin_client, keys):
    response = admin_client.get(CONSOLE + "?status=bogus&sort=password", headers=htmx_headers())
    assert response.status_code == 200
    assert "were not understood" in response.content.decode()


def test_the_filter_state_lives_in_the_url_and_works_without_javascript(admin_client, keys):
    page = admin_client.get(CONSOLE + "?status=active&sort=name").content.decode()
    assert 'hx-push-url="true"' in page
    assert '<option value="active" selected>' in page
    assert "Main Website Integration" in page and "Billing export</a>" not in page


def test_pages_are_clamped_and_keep_the_filters(admin_client, keys, make_key, developer):
    for n in range(30):
        make_key(developer, name=f"Bulk {n:02}")
    response = admin_client.get(CONSOLE + "?status=active&per_page=1000", headers=htmx_headers())
    assert response.context["page"].paginator.per_page == 100
    response = admin_client.get(CONSOLE + "?status=active&per_page=1", headers=htmx_headers())
    page = response.context["page"]
    assert page.paginator.per_page == 25 and page.paginator.count == 32
    assert "?status=active&amp;per_page=1&amp;page=2" in response.content.decode()
    assert admin_client.get(CONSOLE + "?page=999").status_code == 200


def test_an_htmx_request_gets_only_the_table(admin_client, keys):
    body = admin_client.get(CONSOLE + "?q=sync", headers=htmx_headers()).content.decode()
    assert body.lstrip().startswith('<section id="key-table"')
    assert "<html" not in body


def test_the_query_count_does_not_grow_with_keys_or_rows(admin_client, keys, make_key, developer):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CONSOLE + "?per_page=100").status_code == 200
        return len(queries)

    few = count()
    for n in range(40):
        make_key(developer, name=f"More {n}")
    assert count() == few
    assert few <= 8, few


def test_bulk_revoke_confirms_with_the_count_then_revokes(admin_client, keys):
    chosen = [keys["website"].key_id, keys["staging"].key_id, keys["billing"].key_id]
    confirm = admin_client.post(BULK, {"key": chosen}, headers=htmx_headers(admin_client.token))
    body = confirm.content.decode()
    # The revoked one is left out of the count.
    assert "revoke <strong>2 API keys</strong>" in body and "cannot be undone" in body
    assert ApiKey.objects.with_status("active").count() == 2

    done = admin_client.post(
        BULK, {"key": chosen, "confirm": "yes"}, headers=htmx_headers(admin_client.token)
    )
    assert list(json.loads(done["HX-Trigger"])) == ["keyChanged", "closeModal"]
    assert "2 API keys revoked." in done.content.decode()
    assert ApiKey.objects.with_status("active").count() == 0


def test_bulk_revoke_ignores_keys_of_other_tenants(admin_client, keys, outsider, globex, make_key):
    foreign, _ = make_key(outsider, tenant=globex)
    admin_client.post(
        BULK,
        {"key": [foreign.key_id], "confirm": "yes"},
        headers={"X-CSRFToken": admin_client.token},
    )
    foreign.refresh_from_db()
    assert foreign.status == "active"


def test_bulk_revoke_with_nothing_selected_says_so(admin_client, keys):
    body = admin_client.post(BULK, {}, headers=htmx_headers(admin_client.token)).content.decode()
    assert "Select one or more active keys" in body


def test_admins_never_see_or_make_a_secret_for_someone_elses_key(admin_client, keys):
    page = admin_client.get(keys["website"].get_absolute_url()).content.decode()
    assert "Regenerate" not in page and "Roll</a>" not in page
    url = reverse("apikeys:regenerate", args=["acme", keys["website"].key_id])
    assert admin_client.post(url, headers={"X-CSRFToken": admin_client.token}).status_code == 403


def test_the_address_bar_keeps_only_the_filters_in_use(admin_client, keys):
    response = admin_client.get(
        CONSOLE + "?q=sync&status=&environment=staging&per_page=25", headers=htmx_headers()
    )
    assert response["HX-Push-Url"] == CONSOLE + "?q=sync&environment=staging"


def test_the_table_answer_carries_the_sort_menu_out_of_band(admin_client, keys):
    body = admin_client.get(CONSOLE + "?sort=-name", headers=htmx_headers()).content.decode()
    assert body.lstrip().startswith('<section id="key-table"')
    assert '<div class="filter" id="sort-filter" hx-swap-oob="true">' in body
    assert '<option value="-name" selected>' in body
    assert 'aria-sort="descending"><a href="?sort=name"' in body
    # A full page has the menu once, in the form, and never out of band.
    page = admin_client.get(CONSOLE + "?sort=-name").content.decode()
    assert page.count('id="sort-filter"') == 1 and "hx-swap-oob" not in page


def test_with_no_sort_the_created_header_says_newest_first(admin_client, keys):
    body = admin_client.get(CONSOLE, headers=htmx_headers()).content.decode()
    assert 'aria-sort="descending"><a href="?sort=created"' in body
    assert body.count("aria-sort=") == 1


def test_a_history_restore_gets_the_whole_page_and_pushes_nothing(admin_client, keys):
    response = admin_client.get(
        CONSOLE + "?sort=name&status=active",
        headers=htmx_headers() | {"HX-History-Restore-Request": "true"},
    )
    body = response.content.decode()
    assert "<html" in body and 'id="key-filters"' in body and "hx-swap-oob" not in body
    assert "HX-Push-Url" not in response
    assert "HX-Request" in response["Vary"]


def test_every_filter_has_a_submit_path_without_javascript(admin_client, keys):
    page = admin_client.get(CONSOLE).content.decode()
    form = page[
        page.index('<form id="key-filters"') : page.index("</form>", page.index("key-filters"))
    ]
    assert '<button type="submit" class="button">Apply</button>' in form
    assert "<noscript>" not in form
    # An owner typed and left (change) applies as a select does: the form listens for change.
    assert 'hx-trigger="change, ' in form


def test_revoke_selected_shows_only_while_a_key_can_be_revoked(admin_client, keys):
    page = admin_client.get(CONSOLE).content.decode()
    assert '<form id="bulk-form"' in page and "data-bulk-count" in page
    assert 'aria-describedby="bulk-hint"' in page
    bulk = page[
        page.index('<form id="bulk-form"') : page.index(">", page.index('<form id="bulk-form"'))
    ]
    assert "hidden" not in bulk
    for query in ("?status=revoked", "?q=nothing-like-this"):
        page = admin_client.get(CONSOLE + query).content.decode()
        start = page.index('<form id="bulk-form"')
        assert page[start : page.index(">", start)].endswith(" hidden")


def test_the_owner_filter_never_reaches_another_tenants_member(
    admin_client, keys, outsider, globex, make_key
):
    make_key(outsider, tenant=globex, name="Globex key")
    assert _names(admin_client, "?owner=owner@globex.test") == []
    assert "Globex key" not in _names(admin_client, "?owner=globex")
