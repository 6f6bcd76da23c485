import json

import pytest
from django.core import serializers
from django.urls import reverse

from apikeys.models import ApiKey, Status
from tenants.models import Event
from tests.helpers import csrf_token_for, htmx_headers

PROFILE = reverse("apikeys:my_keys", args=["acme"])
CREATE = reverse("apikeys:create", args=["acme"])
CONSOLE = reverse("apikeys:console", args=["acme"])
SETTINGS = reverse("apikeys:settings", args=["acme"])


def _key_urls(key_id: str) -> dict[str, str]:
    urls = {
        "detail": reverse("apikeys:detail", args=["acme", key_id]),
        "edit": reverse("apikeys:edit", args=["acme", key_id]),
        "regenerate": reverse("apikeys:regenerate", args=["acme", key_id]),
        "roll": reverse("apikeys:roll", args=["acme", key_id]),
    }
    for action in ("disable", "enable", "revoke", "delete"):
        urls[action] = reverse(f"apikeys:{action}", args=["acme", key_id])
    return urls


# GET status of each view for each persona, for a key owned by `developer`.
MATRIX = {
    "admin": {
        "console": 200,
        "settings": 200,
        "profile": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "regenerate": 403,
        "roll": 403,
        "disable": 200,
        "enable": 200,
        "revoke": 200,
        "delete": 403,
    },
    "developer": {
        "console": 403,
        "settings": 403,
        "profile": 200,
        "create": 200,
        "detail": 200,
        "edit": 200,
        "regenerate": 200,
        "roll": 200,
        "disable": 200,
        "enable": 200,
        "revoke": 200,
        "delete": 200,
    },
    "member": {
        "console": 403,
        "settings": 403,
        "profile": 200,
        "create": 403,
        "detail": 404,
        "edit": 403,
        "regenerate": 403,
        "roll": 403,
        "disable": 403,
        "enable": 403,
        "revoke": 403,
        "delete": 403,
    },
    "outsider": dict.fromkeys(
        [
            "console",
            "settings",
            "profile",
            "create",
            "detail",
            "edit",
            "regenerate",
            "roll",
            "disable",
            "enable",
            "revoke",
            "delete",
        ],
        404,
    ),
}


@pytest.mark.parametrize("persona", list(MATRIX))
def test_each_persona_gets_what_its_roles_allow(personas, client_for, make_key, persona):
    key, _ = make_key(personas["developer"])
    urls = {"console": CONSOLE, "settings": SETTINGS, "profile": PROFILE, "create": CREATE}
    urls |= _key_urls(key.key_id)
    client = client_for(personas[persona])
    for name, expected in MATRIX[persona].items():
        assert client.get(urls[name]).status_code == expected, (persona, name)


def test_anonymous_visitors_are_sent_to_sign_in(developer, client_for, make_key):
    key, _ = make_key(developer)
    client = client_for(None)
    for url in [CONSOLE, SETTINGS, PROFILE, CREATE, *_key_urls(key.key_id).values()]:
        assert client.get(url)["Location"].startswith("/accounts/sign-in/"), url


DEVELOPER_ONLY_FOR_AN_ADMIN = {("admin", "edit"), ("admin", "regenerate"), ("admin", "roll")}


def test_another_tenants_key_is_a_404_everywhere(personas, client_for, make_key, globex):
    key, _ = make_key(personas["outsider"], tenant=globex)
    for persona in ("admin", "developer"):
        client = client_for(personas[persona])
        token = csrf_token_for(client, PROFILE)
        for name, url in _key_urls(key.key_id).items():
            # Exactly what a key ID that exists nowhere gets: nothing confirms it exists.
            unknown = url.replace(key.key_id, "NoSuchKey0")
            # The role is checked before the key is looked up: an admin gets 403 from the
            # developer-only views whatever the key; every other answer is a 404.
            expected = 403 if (persona, name) in DEVELOPER_ONLY_FOR_AN_ADMIN else 404
            assert client.get(url).status_code == expected, (persona, url)
            assert client.get(unknown).status_code == expected, (persona, unknown)
            if name != "detail":  # a read-only page: POST is 405 before anything is looked up
                post = client.post(url, headers={"X-CSRFToken": token}).status_code
                assert post == expected, (persona, url)
    key.refresh_from_db()
    assert key.status == Status.ACTIVE and key.name == "Integration"


def test_a_developer_cannot_see_a_colleagues_key(developer, acme, client_for, make_key):
    from tests.factories import MembershipFactory

    colleague = MembershipFactory(tenant=acme, is_developer=True).user
    key, _ = make_key(colleague)
    client = client_for(developer)
    assert client.get(_key_urls(key.key_id)["detail"]).status_code == 404
    assert key.name not in client.get(PROFILE).content.decode()


@pytest.fixture
def dev_client(developer, client_for):
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def _create(client, htmx=True, **data):
    values = {
        "name": "Main Website Integration",
        "environment": "production",
        "scopes": ["customers:read", "usage:read"],
        "rate_limit": "60",
        "expires_on": "",
    } | data
    headers = htmx_headers(client.token) if htmx else {"X-CSRFToken": client.token}
    return client.post(CREATE, values, headers=headers)


def test_the_secret_is_shown_exactly_once(dev_client, acme, caplog):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    response = _create(dev_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    key = ApiKey.objects.get()
    secret = body.split('id="new-secret"')[1].split('value="')[1].split('"')[0]
    assert secret.startswith(f"kw_live_{key.key_id}_")
    assert "It will not be shown again" in body
    # The secret replaces the create dialog, which stays open; the tables behind it hear
    # `keyChanged` and refetch themselves (never with the secret).
    assert body.lstrip().startswith("<dialog") and "<html" not in body
    assert json.loads(response["HX-Trigger"]) == {"keyChanged": {}}
    assert body.count(secret) == 1

    # Never again: not on the profile, the key's page or the console, not in the database,
    # the events or the logs.
    for url in (PROFILE, _key_urls(key.key_id)["detail"]):
        page = dev_client.get(url).content.decode()
        assert key.key_id in page and secret not in page
    dump = serializers.serialize("json", [*ApiKey.objects.all(), *Event.objects.all()])
    assert secret not in dump
    assert secret.split("_")[-1] not in dump
    assert secret not in caplog.text


def test_create_works_without_javascript(dev_client, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    form = dev_client.get(CREATE)
    assert "<dialog" in form.content.decode() and "open" in form.content.decode()
    response = _create(dev_client, htmx=False)
    assert response.status_code == 200
    assert "It will not be shown again" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_invalid_input_shows_field_errors_and_creates_nothing(dev_client):
    response = _create(dev_client, name="", scopes=[], description="d" * 1001, rate_limit="0")
    body = response.content.decode()
    # The dialog comes back with its errors, and the focus goes to the first refused field.
    assert response.status_code == 200 and body.lstrip().startswith("<dialog")
    assert 'aria-invalid="true"' in body
    assert "This field is required." in body
    assert "Choose at least one permission." in body
    assert "at most 1000 characters" in body
    assert not ApiKey.objects.exists()


def test_policy_errors_reach_the_form(dev_client, acme):
    acme.settings.max_expiration_days = 30
    acme.settings.save()
    response = _create(dev_client, expires_on="2099-01-01")
    assert "at most 30 days" in response.content.decode()
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    response = _create(dev_client, expires_on="")
    assert "API keys are disabled" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_profile_offers_create_only_while_keys_are_enabled(dev_client, acme):
    assert "Create API key" in dev_client.get(PROFILE).content.decode()
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    page = dev_client.get(PROFILE).content.decode()
    assert "API keys are disabled" in page and ">Create API key</a>" not in page


def test_an_empty_profile_says_what_to_do_next(dev_client):
    assert "No API keys yet" in dev_client.get(PROFILE).content.decode()


def test_row_actions_confirm_first_and_then_act(dev_client, developer, make_key):
    key, _ = make_key(developer)
    urls = _key_urls(key.key_id)
    confirm = dev_client.get(urls["revoke"], headers=htmx_headers())
    assert "cannot be undone" in confirm.content.decode()
    key.refresh_from_db()
    assert key.status == Status.ACTIVE
    done = dev_client.post(urls["revoke"], headers=htmx_headers(dev_client.token))
    # Nothing is swapped but the toast; the profile's table refetches itself on keyChanged.
    assert json.loads(done["HX-Trigger"]) == {"keyChanged": {}, "closeModal": {}}
    assert done["HX-Reswap"] == "none"
    assert 'hx-swap-oob="beforeend"' in done.content.decode()
    assert "Integration was revoked." in done.content.decode()
    key.refresh_from_db()
    assert key.status == Status.REVOKED
    assert "Revoked" in dev_client.get(PROFILE, headers=htmx_headers()).content.decode()


def test_rename_regenerate_roll_and_delete_through_the_views(dev_client, developer, make_key):
    key, _ = make_key(developer, name="Old name")
    urls = _key_urls(key.key_id)
    headers = {"X-CSRFToken": dev_client.token}
    assert (
        dev_client.post(
            urls["edit"],
            {"name": "New name", "description": "", "rate_limit": "60"},
            headers=headers,
        ).status_code
        == 302
    )
    regenerated = dev_client.post(urls["regenerate"], headers=headers)
    assert "no-store" in regenerated["Cache-Control"]
    assert f"kw_live_{key.key_id}_" in regenerated.content.decode()
    rolled = dev_client.post(urls["roll"], {"grace": "3d"}, headers=headers)
    assert "keeps working until" in rolled.content.decode()
    key.refresh_from_db()
    assert key.name == "New name" and key.in_grace_period
    assert dev_client.post(urls["disable"], headers=headers).status_code == 302
    assert dev_client.post(urls["delete"], headers=headers).status_code == 302
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    actions = list(
        Event.objects.filter(target_id=key.key_id).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "key.created",
        "key.renamed",
        "key.regenerated",
        "key.rolled",
        "key.disabled",
        "key.deleted",
    ]


def test_roll_refuses_an_unknown_grace_period(dev_client, developer, make_key):
    key, _ = make_key(developer)
    response = dev_client.post(
        _key_urls(key.key_id)["roll"], {"grace": "30d"}, headers=htmx_headers(dev_client.token)
    )
    assert "Select a valid choice" in response.content.decode()
    key.refresh_from_db()
    assert not key.previous_secret_hash


def test_an_admin_revokes_a_developers_key_from_the_console(admin, developer, client_for, make_key):
    key, _ = make_key(developer)
    client = client_for(admin)
    token = csrf_token_for(client, CONSOLE)
    response = client.post(_key_urls(key.key_id)["revoke"], headers=htmx_headers(token))
    assert "keyChanged" in json.loads(response["HX-Trigger"])
    key.refresh_from_db()
    assert key.status == Status.REVOKED and key.revoked_by == admin
    # The table refetches itself with the console's current filters: no longer active.
    table = client.get(
        CONSOLE + "?status=active", headers=htmx_headers() | {"HX-Trigger": "key-table"}
    )
    assert f"<code>{key.key_id}</code>" not in table.content.decode()
    assert "HX-Push-Url" not in table  # the address is already right


def test_settings_page_saves_and_validates(admin, client_for, acme):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    data = {
        "api_keys_enabled": "on",
        "max_expiration_days": "90",
        "max_keys_per_user": "1001",
        "default_rate_limit": "120",
    }
    bad = client.post(SETTINGS, data, headers={"X-CSRFToken": token})
    assert bad.status_code == 400
    assert "Enter a whole number from 1 to 1,000." in bad.content.decode()
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user == 10
    good = client.post(SETTINGS, data | {"max_keys_per_user": "25"}, headers={"X-CSRFToken": token})
    assert good.status_code == 302
    acme.settings.refresh_from_db()
    assert (acme.settings.max_keys_per_user, acme.settings.default_rate_limit) == (25, 120)
    event = Event.objects.get(action=Event.Action.SETTINGS_CHANGED)
    assert json.dumps(event.changes, sort_keys=True) == json.dumps(
        {
            "default_rate_limit": {"after": 120, "before": 60},
            "max_expiration_days": {"after": 90, "before": 365},
            "max_keys_per_user": {"after": 25, "before": 10},
        },
        sort_keys=True,
    )


def test_key_writes_need_the_csrf_token(developer, client_for, make_key):
    key, _ = make_key(developer)
    client = client_for(developer)
    for url in _key_urls(key.key_id).values():
        if url.endswith(f"{key.key_id}/"):
            continue
        assert client.post(url, headers=htmx_headers()).status_code == 403, url
    key.refresh_from_db()
    assert key.status == Status.ACTIVE


def test_a_key_can_be_limited_to_customers_of_its_environment(dev_client, acme):
    from customers.models import Customer

    acme.settings.max_expiration_days = None
    acme.settings.save()
    initech = Customer.objects.create(tenant=acme, environment="production", name="Initech")
    staging = Customer.objects.create(tenant=acme, environment="staging", name="Stage Co")
    bad = _create(dev_client, customer_scope=f"{initech.public_id}, {staging.public_id}")
    assert "in the key&#x27;s environment" in bad.content.decode()
    assert not ApiKey.objects.exists()
    _create(dev_client, customer_scope=f"{initech.public_id}")
    assert ApiKey.objects.get().customer_scope == [initech.public_id]


# The modal pattern: one view per action; a successful HTMX write answers with the toast and
# HX-Trigger `keyChanged` then `closeModal`; the tables listen and refetch themselves.

WRITES = {
    "disable": {},
    "enable": {},
    "revoke": {},
    "delete": {},
    "edit": {"name": "Renamed", "description": "", "rate_limit": "60"},
}


@pytest.mark.parametrize("action", list(WRITES))
def test_each_key_action_answers_htmx_with_key_changed_and_close_modal(
    dev_client, developer, make_key, action
):
    key, _ = make_key(developer)
    if action == "enable":
        dev_client.post(_key_urls(key.key_id)["disable"], headers=htmx_headers(dev_client.token))
    url = _key_urls(key.key_id)[action]
    dialog = dev_client.get(url, headers=htmx_headers()).content.decode()
    assert dialog.lstrip().startswith("<dialog") and 'aria-labelledby="dialog-title"' in dialog
    assert f'hx-post="{url}" hx-target="#modal"' in dialog
    response = dev_client.post(url, WRITES[action], headers=htmx_headers(dev_client.token))
    assert response.status_code == 200
    assert list(json.loads(response["HX-Trigger"])) == ["keyChanged", "closeModal"]
    assert response["HX-Reswap"] == "none"
    assert 'class="toast toast-success"' in response.content.decode()


@pytest.mark.parametrize(
    ("action", "goes_to"), [("disable", "detail"), ("revoke", "detail"), ("delete", "profile")]
)
def test_without_javascript_a_key_action_goes_to_the_key_or_the_list(
    dev_client, developer, make_key, action, goes_to
):
    key, _ = make_key(developer)
    urls = _key_urls(key.key_id) | {"profile": PROFILE}
    page = dev_client.get(urls[action]).content.decode()
    assert "<html" in page and "<dialog" in page and " open>" in page
    response = dev_client.post(urls[action], headers={"X-CSRFToken": dev_client.token})
    assert response.status_code == 302 and response["Location"] == urls[goes_to]


def test_deleting_from_the_keys_own_page_goes_to_the_list(dev_client, developer, make_key):
    key, _ = make_key(developer)
    urls = _key_urls(key.key_id)
    response = dev_client.post(
        urls["delete"],
        headers=htmx_headers(dev_client.token)
        | {"HX-Current-URL": f"http://testserver{urls['detail']}"},
    )
    assert response["HX-Redirect"] == PROFILE
    assert not ApiKey.objects.filter(pk=key.pk).exists()


def test_every_key_table_and_the_key_page_refetch_themselves_on_key_changed(
    admin, dev_client, developer, make_key, client_for
):
    key, _ = make_key(developer)
    detail = _key_urls(key.key_id)["detail"]
    admin_console = client_for(admin).get(CONSOLE + "?status=active").content.decode()
    listeners = {
        "console": (admin_console, f'hx-get="{CONSOLE}?status=active"'),
        "profile": (dev_client.get(PROFILE).content.decode(), f'hx-get="{PROFILE}"'),
        "detail": (dev_client.get(detail).content.decode(), f'hx-get="{detail}"'),
    }
    for name, (page, get) in listeners.items():
        assert f'{get} hx-trigger="keyChanged from:body" hx-swap="outerHTML"' in page, name
        # Nothing routes an answer by where it came from any more.
        assert "from=" not in page and 'name="from"' not in page, name
    part = dev_client.get(detail, headers=htmx_headers()).content.decode()
    assert part.lstrip().startswith('<div id="key-page"') and "<html" not in part


def test_a_refused_confirmation_says_why_in_the_dialog(admin, developer, client_for, make_key):
    key, _ = make_key(developer)
    client = client_for(admin)
    token = csrf_token_for(client, CONSOLE)
    client.post(_key_urls(key.key_id)["revoke"], headers=htmx_headers(token))
    url = _key_urls(key.key_id)["disable"]
    response = client.post(url, headers=htmx_headers(token))  # a revoked key stays revoked
    body = response.content.decode()
    assert "HX-Trigger" not in response
    assert body.lstrip().startswith("<dialog") and 'role="alert"' in body
