"""The OpenAPI 3.1 description of the platform API, exactly as the API's views answer.

tests/api/test_openapi.py checks every endpoint's responses against it, and schemathesis
fuzzes a live server with it."""

from copy import deepcopy

from apikeys.models import MAX_RATE_LIMIT, Scope
from customers.models import MAX_SEATS, Customer, License
from gateway.fields import MAX_PAGE, MAX_PER_PAGE, MAX_USAGE_DAYS

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "headers": {
            "RateLimit": {"$ref": "#/components/headers/RateLimit"},
            "RateLimit-Policy": {"$ref": "#/components/headers/RateLimitPolicy"},
        },
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def _body(schema_ref: str) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
# Any request: refused before routing (web.inputs.MalformedRequestMiddleware).
MALFORMED = {"400": _problem("The path or query string holds a NUL byte.")}
BODY_ERRORS = {
    "400": _problem(
        "The path or query string holds a NUL byte, or the body is not valid JSON, or it is "
        "nested more than 32 levels deep."
    ),
    "411": _problem("The body was sent chunked, without a Content-Length."),
    "413": _problem("The body is too large."),
    "415": _problem("The body is not JSON."),
    "422": {"$ref": "#/components/responses/Invalid"},
}
NOT_FOUND = {"404": _problem("No such customer is visible to this key.")}
CONFLICT = {"409": _problem("Another customer already has this external ID.")}
CUSTOMER_ID_PATTERN = "^cus_[0-9A-Za-z]{12}$"
# What web.text.check_name refuses that a pattern can say: control and format characters
# (bidi overrides and isolates, zero-width space...), line separators; and at least one
# character that is neither one of those nor a space. The server refuses a little more
# (invisible-only letters such as U+3164), never less.
_NOT_IN_NAMES = (
    r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
NAME_PATTERN = rf"^[^{_NOT_IN_NAMES}]*[^{_NOT_IN_NAMES}\s][^{_NOT_IN_NAMES}]*$"
CUSTOMER_ID = {
    "name": "customer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": CUSTOMER_ID_PATTERN},
}


PAGE_PARAMETERS = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    },
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    },
]
JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _op(op_id: str, summary: str, scope: str | None, responses: dict, **extra) -> dict:
    operation = {
        "operationId": op_id,
        "summary": summary,
        "description": f"Needs the permission `{scope}`." if scope else "Any valid key.",
        "responses": MALFORMED | responses | ERRORS,
    } | extra
    if scope:
        operation["x-required-scope"] = scope
    return operation


_STRING = {"type": "string"}


def _page_of(schema: str) -> dict:
    """One page of a list, as the list endpoints answer it."""
    return {
        "type": "object",
        "required": ["data", "page", "per_page", "total", "has_more"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
            "has_more": {"type": "boolean"},
        },
        "additionalProperties": False,
    }


_DATETIME = {"type": "string", "format": "date-time"}
RANGE_RULE = f"`from` must not be after `to`, and the range spans at most {MAX_USAGE_DAYS} days."
# The import's header row: `name` among its columns (a BOM and quotes allowed).
CSV_HEADER_PATTERN = r'^\ufeff?(?:[^\r\n]*,)?"?name"?(?:,[^\r\n]*)?\r?\n'

SCHEMAS = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": _STRING,
            "status": {"type": "integer"},
            "detail": _STRING,
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _STRING},
            },
            "required": _STRING,
        },
    },
    "Me": {
        "type": "object",
        "required": [
            "tenant",
            "key_id",
            "name",
            "environment",
            "scopes",
            "rate_limit",
            "expires_on",
            "customer_scope",
        ],
        "properties": {
            "tenant": _STRING,
            "key_id": _STRING,
            "name": _STRING,
            "environment": {"enum": ["production", "staging", "development"]},
            "scopes": {"type": "array", "items": {"enum": Scope.values}},
            "rate_limit": {"type": "integer", "minimum": 1, "maximum": MAX_RATE_LIMIT},
            "expires_on": {"type": ["string", "null"], "format": "date"},
            "customer_scope": {"type": "array", "items": _STRING},
        },
        "additionalProperties": False,
    },
    "Customer": {
        "type": "object",
        "required": [
            "id",
            "name",
            "external_id",
            "status",
            "environment",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "id": _STRING,
            "name": _STRING,
            "external_id": _STRING,
            "status": {"enum": Customer.Status.values},
            "environment": {"enum": ["production", "staging", "development"]},
            "created_at": _DATETIME,
            "updated_at": _DATETIME,
        },
        "additionalProperties": False,
    },
    "CustomerList": _page_of("Customer"),
    "CustomerCreate": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NAME_PATTERN},
            "external_id": {"type": "string", "maxLength": 100},
            "status": {"enum": Customer.Status.values},
        },
        "additionalProperties": False,
    },
    "CustomerUpdate": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NAME_PATTERN},
            "external_id": {"type": "string", "maxLength": 100},
            "status": {"enum": Customer.Status.values},
        },
        "additionalProperties": False,
    },
    "License": {
        "type": "object",
        "required": ["customer_id", "seats", "tier", "trial", "not_for_resale", "updated_at"],
        "properties": {
            "customer_id": _STRING,
            "seats": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
            "tier": {"enum": [*License.Tier.values, None]},
            "trial": {"type": "boolean"},
            "not_for_resale": {"type": "boolean"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "additionalProperties": False,
    },
    "LicensePut": {
        "type": "object",
        "required": ["seats", "tier", "trial", "not_for_resale"],
        "properties": {
            "seats": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
            "tier": {"enum": License.Tier.values},
            "trial": {"type": "boolean"},
            "not_for_resale": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "UsageRow": {
        "type": "object",
        "required": [
            "customer_id",
            "customer_name",
            "seats_used",
            "licensed_seats",
            "tier",
            "trial",
            "not_for_resale",
        ],
        "properties": {
            "customer_id": _STRING,
            "customer_name": _STRING,
            "date": {"type": "string", "format": "date"},
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "seats_used": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
            "licensed_seats": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
            "tier": {"enum": [*License.Tier.values, None]},
            "trial": {"type": "boolean"},
            "not_for_resale": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "Usage": {
        "type": "object",
        "required": ["period", "from", "to", "data"],
        "properties": {
            "period": {"enum": ["daily", "monthly"]},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/UsageRow"}},
        },
        "additionalProperties": False,
    },
    "ExportRequest": {
        "type": "object",
        "required": ["period", "from", "to"],
        "description": RANGE_RULE,
        "properties": {
            "period": {"enum": ["daily", "monthly"]},
            "from": {"type": "string", "format": "date", "description": "First day."},
            "to": {"type": "string", "format": "date", "description": "Last day."},
            "customers": {
                "type": "array",
                "items": {"type": "string", "pattern": CUSTOMER_ID_PATTERN},
            },
        },
        "additionalProperties": False,
    },
    "Job": {
        "type": "object",
        "required": [
            "id",
            "type",
            "status",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "details",
            "rows",
            "download_url",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "type": {"enum": ["usage_export", "customer_import"]},
            "status": {"enum": ["queued", "running", "succeeded", "failed"]},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "created_at": _DATETIME,
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "error": {"type": ["string", "null"]},
            "details": {
                "type": "array",
                "description": "Row errors of a refused import.",
                "items": {
                    "type": "object",
                    "required": ["row", "errors"],
                    "properties": {
                        "row": {"type": "integer", "minimum": 1},
                        "errors": {"type": "object"},
                    },
                },
            },
            "rows": {"type": "integer", "minimum": 0},
            "download_url": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    },
    "Telemetry": {
        "type": "object",
        "required": ["customer_id", "date", "seats_used"],
        "properties": {
            "customer_id": {"type": "string", "maxLength": 20},
            "date": {
                "type": "string",
                "format": "date",
                "description": "The day the seats were used: today or earlier (UTC).",
            },
            "seats_used": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
        },
        "additionalProperties": False,
    },
}


def _paths() -> dict:
    return {
        "/me": {
            "get": _op(
                "getMe",
                "The calling key: tenant, ID, name, environment, scopes, limits",
                None,
                {"200": _json("Me")},
            ),
        },
        "/customers": {
            "get": _op(
                "listCustomers",
                "Customers visible to this key, by name",
                "customers:read",
                {"200": _json("CustomerList"), "422": {"$ref": "#/components/responses/Invalid"}},
                parameters=PAGE_PARAMETERS,
            ),
            "post": _op(
                "createCustomer",
                "Create a customer in this key's environment",
                "customers:write",
                {"201": _json("Customer", "Created")} | CONFLICT | BODY_ERRORS,
                requestBody=_body("CustomerCreate"),
            ),
        },
        "/customers/{customer_id}": {
            "parameters": [CUSTOMER_ID],
            "get": _op(
                "getCustomer",
                "One customer",
                "customers:read",
                {"200": _json("Customer")} | NOT_FOUND,
            ),
            "patch": _op(
                "updateCustomer",
                "Change a customer's name, external ID or status",
                "customers:write",
                {"200": _json("Customer")} | NOT_FOUND | CONFLICT | BODY_ERRORS,
                requestBody=_body("CustomerUpdate"),
            ),
        },
        "/customers/{customer_id}/license": {
            "parameters": [CUSTOMER_ID],
            "get": _op(
                "getLicense",
                "A customer's licence",
                "customers:read",
                {"200": _json("License")} | NOT_FOUND,
            ),
            "put": _op(
                "putLicense",
                "Set a customer's licence: seats, tier, trial, NFR",
                "licenses:manage",
                {"200": _json("License")} | NOT_FOUND | BODY_ERRORS,
                requestBody=_body("LicensePut"),
            ),
        },
        "/usage": {
            "get": _op(
                "getUsage",
                "Seats used per customer, per day or per month (the peak)",
                "usage:read",
                {"200": _json("Usage"), "422": {"$ref": "#/components/responses/Invalid"}},
                parameters=[
                    {
                        "name": "period",
                        "in": "query",
                        "schema": {"enum": ["daily", "monthly"], "default": "daily"},
                    },
                    {
                        "name": "from",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                        "description": "First day, YYYY-MM-DD (default: 29 days before `to`).",
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                        "description": "Last day, YYYY-MM-DD (default: today). " + RANGE_RULE,
                    },
                ],
            ),
        },
        "/customers/import": {
            "post": _op(
                "importCustomers",
                "Import up to 10,000 customers, all or none; poll the job it returns",
                "customers:write",
                {"202": _json("Job", "Accepted: the job to poll")} | BODY_ERRORS,
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 10_000,
                                "items": {"$ref": "#/components/schemas/CustomerCreate"},
                            }
                        },
                        "text/csv": {
                            "schema": {
                                "type": "string",
                                "pattern": CSV_HEADER_PATTERN,
                                "description": (
                                    "UTF-8 CSV, up to 10,000 rows: a header row naming at "
                                    "least `name` (also `external_id`, `status`), then one "
                                    "customer a line; names follow the same rules as in JSON."
                                ),
                            }
                        },
                    },
                },
            ),
        },
        "/exports": {
            "post": _op(
                "createExport",
                "Start a CSV export of usage; poll the job it returns",
                "usage:read",
                {"202": _json("Job", "Accepted: the job to poll")} | BODY_ERRORS,
                requestBody=_body("ExportRequest"),
            ),
        },
        "/jobs/{job_id}": {
            "parameters": [JOB_ID],
            "get": _op(
                "getJob",
                "A job started by a key of this tenant and environment",
                None,
                {"200": _json("Job"), "404": _problem("No such job is visible.")},
            ),
        },
        "/jobs/{job_id}/download": {
            "parameters": [JOB_ID],
            "get": _op(
                "downloadExport",
                "The CSV of a finished export",
                "usage:read",
                {
                    "200": {
                        "description": "The CSV file",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    "404": _problem("No such job is visible."),
                    "409": _problem("The job has not finished successfully."),
                },
            ),
        },
        "/telemetry": {
            "post": _op(
                "postTelemetry",
                "Report the seats a customer used on a day",
                "telemetry:write",
                {"200": _json("Telemetry")} | NOT_FOUND | BODY_ERRORS,
                requestBody=_body("Telemetry"),
            ),
        },
    }


def document(environment: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Keyward platform API",
            "version": "1.0.0",
            "description": (
                f"The {environment} environment. Authenticate with `Authorization: Bearer "
                "<key>`; errors are RFC 9457 problem details; every response carries the "
                "key's `RateLimit-Policy` and `RateLimit`."
            ),
        },
        "servers": [{"url": f"/api/{environment}/v1"}],
        "security": [{"apiKey": []}],
        "paths": deepcopy(_paths()),
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": deepcopy(SCHEMAS),
            "headers": {
                "RateLimit": {
                    "schema": {"type": "string"},
                    "description": "What is left: r=remaining, t=seconds to reset.",
                },
                "RateLimitPolicy": {
                    "schema": {"type": "string"},
                    "description": "The key's limit: q=requests per w=60 seconds.",
                },
            },
            "responses": {
                "Unauthorized": _problem(
                    "No key, or a key that is malformed, unknown, revoked, "
                    "disabled, expired, of a switched-off tenant or of "
                    "another environment."
                )
                | {"headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
                "Forbidden": _problem(
                    "The key lacks the permission this operation needs, or was used from an "
                    "address outside its network allowlist."
                ),
                "TooManyRequests": _problem("Over the key's rate limit.")
                | {"headers": {"Retry-After": {"schema": {"type": "integer"}}}},
                "Unavailable": _problem("The service is temporarily unavailable."),
                "Invalid": _problem("Invalid fields: `errors` names each with its messages."),
            },
        },
    }


def system_document() -> dict:
    """The system API: tenants, and revoking keys a scan found; service keys (`kw_svc_`) only."""
    tenant = {
        "type": "object",
        "required": ["slug", "name", "active", "api_keys_enabled", "created_at"],
        "properties": {
            "slug": _STRING,
            "name": _STRING,
            "active": {"type": "boolean"},
            "api_keys_enabled": {"type": "boolean"},
            "created_at": _DATETIME,
        },
        "additionalProperties": False,
    }
    slug = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    }
    base = document("system")
    base["info"]["title"] = "Keyward system API"
    base["info"]["description"] = (
        "Tenants, and revoking the tenant keys a scan found (`keyward-scan --revoke`), for "
        "service API keys (`kw_svc_`) only: tenant keys are refused. Errors are RFC 9457 "
        "problem details."
    )
    base["servers"] = [{"url": "/api/system/v1"}]
    schemas = base["components"]["schemas"]
    for name in list(schemas):
        if name != "Problem":
            del schemas[name]
    schemas["Tenant"] = tenant
    schemas["TenantList"] = _page_of("Tenant")
    schemas["TenantCreate"] = {
        "type": "object",
        "required": ["name", "slug"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME_PATTERN},
            "slug": {
                "type": "string",
                "maxLength": 50,
                "pattern": "^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
            },
        },
        "additionalProperties": False,
    }
    schemas["TenantStatus"] = {
        "type": "object",
        "required": ["active"],
        "properties": {"active": {"type": "boolean"}},
        "additionalProperties": False,
    }
    schemas["FoundKeys"] = {
        "type": "object",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {
                        "token": {"type": "string", "minLength": 1, "maxLength": 200},
                        "found_at": {"type": "string", "maxLength": 500},
                    },
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    }
    schemas["FoundKeysRevoked"] = {
        "type": "object",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key_id", "revoked"],
                    "properties": {
                        "key_id": {"type": ["string", "null"]},
                        "revoked": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    }
    not_found = {"404": _problem("No tenant has this slug.")}
    base["paths"] = {
        "/keys/revoke-found": {
            "post": _op(
                "revokeFoundKeys",
                "Revoke the tenant keys a scan found (keyward-scan --revoke), each marked "
                "leaked where it was found; a token that is no live key changes nothing",
                None,
                {"200": _json("FoundKeysRevoked")} | BODY_ERRORS,
                requestBody=_body("FoundKeys"),
            ),
        },
        "/tenants": {
            "get": _op(
                "listTenants",
                "Every tenant, by slug",
                None,
                {"200": _json("TenantList"), "422": {"$ref": "#/components/responses/Invalid"}},
                parameters=PAGE_PARAMETERS,
            ),
            "post": _op(
                "createTenant",
                "Create a tenant (API keys off until its admin enables them)",
                None,
                {
                    "201": _json("Tenant", "Created"),
                    "409": _problem("A tenant with this slug already exists."),
                }
                | BODY_ERRORS,
                requestBody=_body("TenantCreate"),
            ),
        },
        "/tenants/{slug}": {
            "parameters": [slug],
            "get": _op("getTenant", "One tenant", None, {"200": _json("Tenant")} | not_found),
        },
        "/tenants/{slug}/status": {
            "parameters": [slug],
            "put": _op(
                "setTenantStatus",
                "Activate or deactivate a tenant: deactivation "
                "stops its portal and every one of its keys at once",
                None,
                {"200": _json("Tenant")} | not_found | BODY_ERRORS,
                requestBody=_body("TenantStatus"),
            ),
        },
    }
    return base


def provider_document() -> dict:
    """The Provider API: usage of every managed customer, for EdDSA-signed JWTs."""
    base = document("production")
    base["info"] = {
        "title": "Keyward Provider API",
        "version": "1.0.0",
        "description": (
            "Daily or monthly licence consumption of every managed customer (production data). "
            "Authenticate with `Authorization: Bearer <JWT>`: EdDSA (Ed25519), signed with the "
            "private key from Integrations > Provider API; header `kid` = its key ID; claims "
            "`iss` = your tenant's slug, `aud` = the Provider API audience, `iat`, and `exp` at "
            "most 300 seconds after `iat`; an optional `jti` may be used once."
        ),
    }
    base["servers"] = [{"url": "/api/provider/v1"}]
    base["components"]["securitySchemes"] = {
        "providerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    base["security"] = [{"providerJwt": []}]
    usage = deepcopy(base["paths"]["/usage"]["get"])
    usage["operationId"] = "getProviderUsage"
    usage.pop("x-required-scope", None)
    usage["description"] = "Every managed customer of the tenant, production data."
    usage["responses"] = {
        "200": {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ProviderUsage"}}
            },
        },
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "422": {"$ref": "#/components/responses/Invalid"},
    } | MALFORMED
    base["components"]["schemas"]["ProviderUsage"] = deepcopy(SCHEMAS["Usage"])
    base["components"]["schemas"]["ProviderUsage"]["required"].append("tenant")
    base["components"]["schemas"]["ProviderUsage"]["properties"]["tenant"] = _STRING
    base["paths"] = {"/usage": {"get": usage}}
    return base
