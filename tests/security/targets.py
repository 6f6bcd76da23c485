"""Every URL the portal serves, with the inputs it reads: the map the hostile tests walk.

`test_coverage.py` fails when a URL pattern has no entry here (or in EXEMPT), so a new
page or endpoint gets hostile-input tests the day it is added."""

from dataclasses import dataclass, field

PAST = "2025-01-01"
TODAY_ISH = "2025-06-30"


@dataclass(frozen=True)
class Portal:
    """A server-rendered page: its query parameters and form fields, with valid values
    that hypothesis mixes with hostile ones."""

    name: str
    path: str
    methods: tuple[str, ...] = ("GET",)
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Api:
    """An API endpoint: its methods (each with the JSON fields of its body, or None for no
    body) and query parameters. `auth`: platform key, service key, provider JWT or none."""

    name: str
    path: str
    methods: dict[str, dict[str, object] | None]
    auth: str = "platform"
    query: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


PAGE = {"page": ["1", "2", "last", "0"]}

PORTAL = [
    Portal("home", "/"),
    Portal("favicon.ico", "/favicon.ico"),
    Portal(
        "login",
        "/accounts/sign-in/",
        ("GET", "POST"),
        query={"next": ["/t/acme/keys/", "//evil.test/", "https://evil.test/"]},
        form={
            "username": ["admin@acme.test", "nobody@acme.test"],
            "password": ["wrong-password", ""],
            "next": ["/t/acme/", "//evil.test/"],
        },
    ),
    Portal("logout", "/accounts/sign-out/", ("POST",), form={"next": ["/", "//evil.test/"]}),
    Portal(
        "second_factor",
        "/accounts/sign-in/second-factor/",
        ("GET", "POST"),
        query={"next": ["/system/", "//evil.test/"]},
        form={"code": ["123456", "abcde-fghjk", "", "1" * 40]},
    ),
    Portal("second_factor_passkey_options", "/accounts/sign-in/passkey/options/", ("POST",)),
    Portal(
        "second_factor_passkey",
        "/accounts/sign-in/passkey/",
        ("POST",),
        form={"id": ["AAAA"], "rawId": ["AAAA"], "type": ["public-key"]},
    ),
    Portal(
        "step_up",
        "/accounts/step-up/",
        ("GET", "POST"),
        query={"next": ["/accounts/two-factor/", "https://evil.test/", "//evil.test", ""]},
        form={"stepup_password": ["x", ""], "next": ["/t/acme/", "https://evil.test/"]},
    ),
    Portal("step_up_passkey_options", "/accounts/step-up/passkey/options/", ("POST",)),
    Portal("two_factor", "/accounts/two-factor/", query={"required": ["acme", "system", ""]}),
    Portal(
        "totp_setup",
        "/accounts/two-factor/app/",
        ("GET", "POST"),
        form={"code": ["123456", "000000", "12345x", ""]},
    ),
    Portal("totp_remove", "/accounts/two-factor/app/remove/", ("GET", "POST")),
    Portal("recovery_codes", "/accounts/two-factor/recovery-codes/", ("GET", "POST")),
    Portal("passkey_register_options", "/accounts/two-factor/passkeys/options/", ("POST",)),
    Portal(
        "passkey_register",
        "/accounts/two-factor/passkeys/",
        ("POST",),
        form={"name": ["Work laptop", ""], "credential": ["{}", "[]"]},
    ),
    Portal("passkey_remove", "/accounts/two-factor/passkeys/0/remove/", ("GET", "POST")),
    Portal(
        "password_change",
        "/accounts/password/",
        ("GET", "POST"),
        # Never the right old password: a changed password would end the persona's session.
        form={
            "old_password": ["not-my-password"],
            "new_password1": ["Tr0ub4dor&3-long-enough"],
            "new_password2": ["Tr0ub4dor&3-long-enough"],
        },
    ),
    Portal("password_change_done", "/accounts/password/done/"),
    Portal(
        "password_reset",
        "/accounts/password/reset/",
        ("GET", "POST"),
        form={"email": ["admin@acme.test", "nobody@example.test"]},
    ),
    Portal("password_reset_done", "/accounts/password/reset/sent/"),
    Portal(
        "password_reset_confirm",
        "/accounts/password/reset/{uidb64}/{token}/",
        ("GET", "POST"),
        form={
            "new_password1": ["Tr0ub4dor&3-long-enough"],
            "new_password2": ["Tr0ub4dor&3-long-enough"],
        },
    ),
    Portal("password_reset_complete", "/accounts/password/reset/done/"),
    Portal(
        "leaks:report",
        "/report-a-leaked-key/",
        ("GET", "POST"),
        form={
            "key": ["kw_live_0123456789_abcdefghijklmnopqrstuvwxyzABCD012345", ""],
            "url": ["https://github.com/acme/site/blob/main/a.py", ""],
            "note": ["Found in a paste.", ""],
        },
    ),
    Portal(
        "sessions_sign_out",
        "/accounts/sessions/sign-out-others/",
        ("POST",),
        form={"next": ["/t/acme/profile/", "//evil.test/", "https://evil.test/"]},
    ),
    Portal(
        "session_sign_out",
        "/accounts/sessions/{session_id}/sign-out/",
        ("POST",),
        form={"next": ["/t/acme/profile/", "//evil.test/"]},
    ),
    Portal("tenants:home", "/t/{slug}/"),
    Portal("tenants:members", "/t/{slug}/members/"),
    Portal(
        "tenants:member_add",
        "/t/{slug}/members/add/",
        ("POST",),
        form={
            "email": ["new@acme.test", "dev@acme.test", "owner@globex.test"],
            "is_admin": ["on", ""],
            "is_developer": ["on", ""],
        },
    ),
    Portal(
        "tenants:member_roles",
        "/t/{slug}/members/{member_id}/roles/",
        ("GET", "POST"),
        form={"is_admin": ["on", ""], "is_developer": ["on", ""]},
    ),
    Portal(
        "tenants:member_license",
        "/t/{slug}/members/{member_id}/licence/",
        ("POST",),
        form={"licensed": ["1", "0", "yes"]},
    ),
    Portal("tenants:member_remove", "/t/{slug}/members/{member_id}/remove/", ("GET", "POST")),
    Portal("tenants:events", "/t/{slug}/events/", query={"q": ["", "abc"], **PAGE}),
    Portal(
        "apikeys:console",
        "/t/{slug}/keys/",
        query={
            "q": ["Main", "dev@"],
            "status": ["active", "inactive", "revoked", "expired"],
            "environment": ["production", "staging", "development"],
            "expiration": ["valid", "expired", "expiring_soon"],
            "owner": ["dev@acme.test"],
            "permission": ["customers:read", "usage:read"],
            "sort": ["name", "-name", "-created", "expires", "-last_used", "updated"],
            "per_page": ["25", "50", "100"],
            **PAGE,
        },
    ),
    Portal(
        "apikeys:create",
        "/t/{slug}/keys/new/",
        ("GET", "POST"),
        form={
            "name": ["Main Website Integration"],
            "description": ["", "For the shop"],
            "environment": ["production", "staging", "development"],
            "scopes": ["customers:read", "usage:read", "telemetry:write"],
            "rate_limit": ["60", "1000"],
            "expires_on": ["", "2099-01-01", PAST],
            "customer_scope": ["", "cus_nope"],
            "allowed_networks": ["", "203.0.113.0/24", "2001:db8::/32\n10.0.0.1", "10.0.0.1/8"],
        },
    ),
    Portal(
        "apikeys:bulk_revoke",
        "/t/{slug}/keys/revoke/",
        ("POST",),
        form={"key": ["{key_id}", "{outsider_key_id}"], "confirm": ["yes", ""]},
    ),
    Portal("apikeys:detail", "/t/{slug}/keys/{key_id}/"),
    Portal(
        "apikeys:edit",
        "/t/{slug}/keys/{key_id}/edit/",
        ("GET", "POST"),
        form={
            "name": ["Renamed"],
            "description": ["", "note"],
            "rate_limit": ["1", "120"],
            "allowed_networks": ["", "203.0.113.0/24", "::ffff:10.0.0.0/104", "not-a-range"],
        },
    ),
    Portal(
        "apikeys:regenerate",
        "/t/{slug}/keys/{key_id}/regenerate/",
        ("GET", "POST"),
        # An expired key's renewal: a new expiry date with the new secret.
        form={"renew": ["yes", ""], "expires_on": [TODAY_ISH, PAST, "2099-12-31", ""]},
    ),
    Portal(
        "apikeys:roll",
        "/t/{slug}/keys/{key_id}/roll/",
        ("GET", "POST"),
        form={"grace": ["1h", "24h", "3d", "7d"]},
    ),
    Portal("apikeys:disable", "/t/{slug}/keys/{key_id}/disable/", ("GET", "POST")),
    Portal("apikeys:enable", "/t/{slug}/keys/{key_id}/enable/", ("GET", "POST")),
    Portal("apikeys:revoke", "/t/{slug}/keys/{key_id}/revoke/", ("GET", "POST")),
    Portal("apikeys:delete", "/t/{slug}/keys/{key_id}/delete/", ("GET", "POST")),
    Portal("apikeys:my_keys", "/t/{slug}/profile/", query=PAGE),
    Portal(
        "apikeys:settings",
        "/t/{slug}/settings/",
        ("GET", "POST"),
        form={
            "api_keys_enabled": ["on", ""],
            "max_expiration_days": ["", "30", "365"],
            "max_keys_per_user": ["1", "10", "1000"],
            "default_rate_limit": ["60", "1000"],
            "default_allowed_networks": ["", "198.51.100.0/24\n2001:db8::/48"],
        },
    ),
    Portal(
        "apikeys:logs",
        "/t/{slug}/logs/",
        query={
            "key": ["{key_id}"],
            "status": ["", "2xx", "4xx", "401", "429", "5xx"],
            "since": ["2025-01-01T00:00"],
            "until": ["2099-01-01T00:00"],
            **PAGE,
        },
    ),
    Portal(
        "apikeys:api_guide",
        "/t/{slug}/api/",
        query={"environment": ["production", "staging", "development"]},
    ),
    Portal("apikeys:provider", "/t/{slug}/integrations/provider-api/"),
    Portal(
        "apikeys:provider_generate",
        "/t/{slug}/integrations/provider-api/generate/",
        ("GET", "POST"),
        form={"replaces": ["", "pk_0000000000000000"]},
    ),
    Portal(
        "apikeys:provider_revoke", "/t/{slug}/integrations/provider-api/revoke/", ("GET", "POST")
    ),
    Portal(
        "customers:list",
        "/t/{slug}/customers/",
        query={"environment": ["production", "staging"], "q": ["Ini", "ini-1"], **PAGE},
    ),
    Portal("customers:detail", "/t/{slug}/customers/{public_id}/"),
    Portal(
        "jobs:list",
        "/t/{slug}/jobs/",
        query={"status": ["queued", "running", "succeeded", "failed"], "key": ["{key_id}"], **PAGE},
    ),
    Portal("jobs:row", "/t/{slug}/jobs/{job_id}/row/"),
    Portal("jobs:download", "/t/{slug}/jobs/{job_id}/download/"),
]

USAGE_QUERY = {
    "period": ["daily", "monthly"],
    "from": [PAST, "2025-06-01"],
    "to": [TODAY_ISH, PAST],
}

API = [
    Api("health", "/api/health", {"GET": None}, auth="none"),
    Api("api:me", "/api/{environment}/v1/me", {"GET": None}),
    Api(
        "api:customers",
        "/api/{environment}/v1/customers",
        {"GET": None, "POST": {"name": "Umbrella", "external_id": "umb-1", "status": "active"}},
        query={"page": ["1", "2"], "per_page": ["1", "50", "100"]},
    ),
    Api(
        "api:customer_import",
        "/api/{environment}/v1/customers/import",
        {"POST": {"name": "Umbrella", "external_id": "umb-2", "status": "active"}},
    ),
    Api(
        "api:customer",
        "/api/{environment}/v1/customers/{customer_id}",
        {"GET": None, "PATCH": {"name": "Initech 2", "external_id": "ini-2", "status": "active"}},
    ),
    Api(
        "api:license",
        "/api/{environment}/v1/customers/{customer_id}/license",
        {
            "GET": None,
            "PUT": {"seats": 20, "tier": "standard", "trial": False, "not_for_resale": False},
        },
    ),
    Api("api:usage", "/api/{environment}/v1/usage", {"GET": None}, query=USAGE_QUERY),
    Api(
        "api:telemetry",
        "/api/{environment}/v1/telemetry",
        {"POST": {"customer_id": "{customer_id}", "date": PAST, "seats_used": 3}},
    ),
    Api(
        "api:exports",
        "/api/{environment}/v1/exports",
        {"POST": {"period": "daily", "from": PAST, "to": TODAY_ISH, "customers": []}},
    ),
    Api("api:job", "/api/{environment}/v1/jobs/{job_id}", {"GET": None}),
    Api("api:job_download", "/api/{environment}/v1/jobs/{job_id}/download", {"GET": None}),
    Api("api:openapi", "/api/{environment}/v1/openapi.json", {"GET": None}, auth="none"),
    Api(
        "system_api:tenants",
        "/api/system/v1/tenants",
        {"GET": None, "POST": {"name": "Initech", "slug": "initech"}},
        auth="service",
        query={"page": ["1", "2"], "per_page": ["1", "100"]},
    ),
    Api("system_api:tenant", "/api/system/v1/tenants/{slug}", {"GET": None}, auth="service"),
    Api(
        "system_api:tenant_status",
        "/api/system/v1/tenants/{slug}/status",
        {"PUT": {"active": True}},
        auth="service",
    ),
    Api(
        "system_api:keys_revoke_found",
        "/api/system/v1/keys/revoke-found",
        {"POST": {"keys": [{"token": "kw_live_0123456789_x", "found_at": "a.py:1"}]}},
        auth="service",
    ),
    Api("system_api:openapi", "/api/system/v1/openapi.json", {"GET": None}, auth="none"),
    # Signed by a secret scanner (GitHub's partner protocol): without a signature, a 401.
    Api(
        "leaks_github",
        "/api/leaks/github",
        {"POST": {"token": "kw_live_0123456789_x", "type": "t", "url": "u", "source": "commit"}},
        auth="none",
    ),
    Api(
        "provider_usage",
        "/api/provider/v1/usage",
        {"GET": None},
        auth="provider",
        query=USAGE_QUERY,
    ),
    Api("provider_openapi", "/api/provider/v1/openapi.json", {"GET": None}, auth="none"),
    Api("^api/", "/api/{other_environment}/v1/{rest}", {"GET": None}, auth="none"),
]

# URL patterns with no hostile-input test of their own here, and why.
EXEMPT = {
    # The Django admin (system admin site) is walked by test_admin_hostile.py, which
    # derives its URLs from the admin's own registry.
    "admin:*": "covered by test_admin_hostile.py from admin.site._registry",
}
