"""Building a hostile API request: path IDs, query parameters, headers and raw bodies."""

import csv
import io

from hypothesis import strategies as st

from tests.security import known
from tests.security.portal_requests import header_value, pairs
from tests.security.strategies import (
    hostile_text,
    hostile_value,
    json_body,
    json_values,
    percent,
    query_string,
)

PAGING = {"page", "per_page"}
OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _not_item_2(value: str) -> bool:
    """While item 2 is open: no all-digit value with a non-ASCII digit in page/per_page."""
    return not (value.isdigit() and not value.isascii())


def _text(*, nul_reaches_postgres: bool):
    return hostile_text(nul=not (nul_reaches_postgres and known.NUL_ON_POSTGRES.open))


def api_query_value():
    value = hostile_value()
    if known.NON_ASCII_DIGITS.open:
        value = value.filter(_not_item_2)
    return value


def _an_environment_name(text: str) -> bool:
    """One path segment (a slash makes it a path outside the API); not empty while item 11
    is open."""
    return "/" not in text and (bool(text) or not known.EMPTY_ENVIRONMENT.open)


def _fill(value, world):
    if isinstance(value, str):
        return value.replace("{customer_id}", world.acme_customer.public_id)
    return value


def _csv(rows: list[dict[str, str]], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def csv_body(draw):
    header = draw(
        st.one_of(
            st.just(["name", "external_id", "status"]),
            st.lists(st.sampled_from(["name", "external_id", "status", "", "x"]), max_size=4),
        )
    )
    cell = st.one_of(st.sampled_from(["Umbrella", "active", "u-1", ""]), hostile_text())
    rows = draw(st.lists(st.fixed_dictionaries({k: cell for k in header}), max_size=4))
    return _csv(rows, header)


@st.composite
def authorization(draw, auth: str, world) -> str | None:
    keys = world.keys
    garbage = st.one_of(
        hostile_text(nul=False).map(lambda t: "Bearer " + t),
        hostile_text(nul=False),
        st.sampled_from(
            [
                "Bearer",
                "Bearer ",
                "bearer " + keys["full"],
                "Bearer  " + keys["full"],
                "Bearer " + keys["full"] + " extra",
                "Basic " + keys["full"],
                "Bearer " + keys["full"][:-1] + ("A" if keys["full"][-1] != "A" else "B"),
                "Bearer " + keys["full"].replace("_live_", "_stg_"),
                "Bearer kw_live_" + "a" * 5000,
                "Bearer " + keys["full"] + "\u202e",
            ]
        ),
    )
    if auth == "provider":
        hostile_claims = st.dictionaries(
            st.sampled_from(["iss", "aud", "iat", "exp", "nbf", "jti", "sub", "x"]),
            json_values(4),
            max_size=3,
        )
        token = st.one_of(
            st.builds(lambda c: world.jwt(**c), st.just({})),
            st.builds(lambda c: world.jwt(**c), hostile_claims),
            st.sampled_from(["a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.", "...", keys["full"]]),
        )
        return draw(st.one_of(token.map(lambda t: "Bearer " + t), garbage, st.none()))
    if auth == "service":
        good = st.sampled_from([keys["service"], keys["full"]])
    elif auth == "platform":
        good = st.sampled_from(list(keys.values()))
    else:
        good = st.sampled_from([keys["full"]])
    return draw(
        st.one_of(
            good.map(lambda k: "Bearer " + k), good.map(lambda k: "Bearer " + k), garbage, st.none()
        )
    )


@st.composite
def api_request(draw, target, method: str, world):
    path = target.path
    fills = {
        "environment": st.sampled_from(["production"] * 4 + ["staging", "development"]),
        "customer_id": st.one_of(
            st.sampled_from([world.acme_customer.public_id, world.globex_customer.public_id]),
            _text(nul_reaches_postgres=True),
        ),
        "job_id": st.one_of(
            st.sampled_from([str(world.job.pk), str(world.globex_job.pk)]),
            hostile_text(),
        ),
        "slug": st.one_of(st.sampled_from(["acme", "globex", "nope"]), hostile_text()),
        "other_environment": st.one_of(
            st.sampled_from(["prod", "live", "v1"]), hostile_text().filter(_an_environment_name)
        ),
        "rest": st.one_of(st.sampled_from(["me", "customers", ""]), hostile_text()),
    }
    for name, strategy in fills.items():
        token = "{" + name + "}"
        if token in path:
            path = path.replace(token, percent(draw(strategy)))
    query = draw(pairs(target.query, world, value=api_query_value)) if target.query else []
    if draw(st.integers(0, 9)) == 0:
        query.append(
            (draw(st.sampled_from(["api_key", "key", "access_token"])), world.keys["full"])
        )
    headers = {}
    header = draw(authorization(target.auth, world))
    if header is not None:
        headers["Authorization"] = header_value(header)
    fields = target.methods.get(method)
    body = b""
    content_type = None
    if method not in ("GET", "HEAD", "OPTIONS", "DELETE") or draw(st.integers(0, 9)) == 0:
        good = {name: _fill(value, world) for name, value in (fields or {}).items()}
        if target.name == "api:customer_import":
            body, content_type = draw(
                st.one_of(
                    st.tuples(csv_body(), st.just("text/csv")),
                    st.tuples(
                        st.lists(
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    k: st.one_of(st.just(v), json_values(4))
                                    for k, v in good.items()
                                },
                            ),
                            max_size=4,
                        ).map(lambda rows: __import__("json").dumps(rows).encode()),
                        st.just("application/json"),
                    ),
                    st.tuples(json_body(good), st.just("application/json")),
                )
            )
        else:
            body = draw(json_body(good))
            content_type = "application/json"
        content_type = draw(
            st.one_of(
                st.just(content_type),
                st.just(content_type),
                st.just(content_type),
                st.sampled_from(
                    [
                        "application/json; charset=latin-1",
                        "application/problem+json",
                        "text/plain",
                        "multipart/form-data; boundary=x",
                        "application/x-www-form-urlencoded",
                        "",
                    ]
                ),
                hostile_text(nul=False, long=False).map(header_value),
            )
        )
    return {
        "method": method,
        "path": path,
        "query": query_string(query),
        "headers": headers,
        "body": body,
        "content_type": content_type,
    }


def send(client, request):
    url = request["path"] + (f"?{request['query']}" if request["query"] else "")
    kwargs = {"headers": request["headers"]}
    if request["content_type"] is not None:
        kwargs |= {"data": request["body"], "content_type": request["content_type"]}
    return client.generic(request["method"], url, **kwargs)


def describe(request, response) -> str:
    return (
        f"{request['method']} {request['path'][:200]}?{request['query'][:300]} "
        f"headers={ {k: v[:120] for k, v in request['headers'].items()} } "
        f"content_type={request['content_type']!r} body={request['body'][:300]!r} "
        f"-> {response.status_code} {response.get('Content-Type')} {response.content[:300]!r}"
    )
