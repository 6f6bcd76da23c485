"""Building a hostile portal request as raw bytes, and reading whether it was refused."""

import uuid

from hypothesis import strategies as st

from tests.security import known
from tests.security.strategies import hostile_text, hostile_value, percent, query_string, wire

PERSONAS = ["admin", "developer", "member", "outsider", "anonymous"]


def _no_nul_on_postgres() -> bool:
    return known.NUL_ON_POSTGRES.open


def query_text():
    """Hostile text for query strings and path segments (NUL only where it is not item 4)."""
    return hostile_text(nul=not _no_nul_on_postgres())


def query_value():
    return hostile_value(nul=not _no_nul_on_postgres())


def uuid_spellings(value: uuid.UUID) -> list[str]:
    """Strings a UUID field accepts: while item 5 is open, the only job IDs thrown."""
    return [str(value), str(value).upper(), value.hex, "{" + str(value) + "}", f"urn:uuid:{value}"]


def path_values(world) -> dict[str, st.SearchStrategy[str]]:
    """Each placeholder of a portal path: valid values of every tenant, or hostile text."""
    job_ids = [
        spelled for job in (world.job, world.globex_job) for spelled in uuid_spellings(job.pk)
    ] + [str(uuid.UUID(int=0))]
    hostile = query_text()
    if known.MALFORMED_JOB_ID.open:
        job_id = st.sampled_from(job_ids)
    else:
        job_id = st.one_of(st.sampled_from(job_ids), hostile)
    return {
        "slug": st.sampled_from(["acme", "acme", "acme", "globex"]),
        "key_id": st.one_of(
            st.sampled_from([world.dev_key.key_id, world.outsider_key.key_id]), hostile
        ),
        "member_id": st.one_of(
            st.sampled_from([str(world.member_membership.pk), "0", "1"]),
            st.integers(min_value=0, max_value=10**30).map(str),
        ),
        "public_id": st.one_of(
            st.sampled_from([world.acme_customer.public_id, world.globex_customer.public_id]),
            hostile,
        ),
        "job_id": job_id,
        "session_id": st.one_of(
            st.sampled_from(["0", "1", "2"]),
            st.integers(min_value=0, max_value=10**30).map(str),
            hostile,
        ),
        "uidb64": st.one_of(st.sampled_from(["MQ", "Mg", "AA", "_-"]), hostile),
        "token": st.one_of(st.sampled_from(["set-password", "abc-123"]), hostile),
    }


def _fill(value: str, world) -> str:
    return value.replace("{key_id}", world.dev_key.key_id).replace(
        "{outsider_key_id}", world.outsider_key.key_id
    )


@st.composite
def pairs(draw, fields: dict[str, list[str]], world, value=query_value):
    """name=value pairs: each known field absent, valid, hostile or repeated; sometimes
    an unknown field too."""
    result = []
    for name, good in fields.items():
        how = draw(st.sampled_from(["absent", "good", "good", "hostile", "hostile", "twice"]))
        if how == "absent":
            continue
        if how == "good":
            result.append((name, _fill(draw(st.sampled_from(good)), world)))
        elif how == "hostile":
            result.append((name, draw(value())))
        else:
            result += [(name, _fill(draw(st.sampled_from(good)), world)), (name, draw(value()))]
    if draw(st.booleans()):
        result.append((draw(hostile_text(long=False, nul=False)), draw(value())))
    return result


def header_value(text: str) -> str:
    """What a WSGI server hands Django for a header: latin-1 text without CR, LF or NUL."""
    return wire(text).decode("latin-1").translate({0: None, 10: None, 13: None})


@st.composite
def portal_request(draw, target, method: str, world):
    values = path_values(world)
    path = target.path
    for placeholder, strategy in values.items():
        token = "{" + placeholder + "}"
        if token in path:
            path = path.replace(token, percent(draw(strategy)))
    query = draw(pairs(target.query, world)) if target.query else []
    if method == "GET" and not target.query and draw(st.booleans()):
        query = draw(pairs({"page": ["1"]}, world))
    # Form values get NUL too: a form field must refuse it (Django's CharField does).
    body = draw(pairs(target.form, world, value=hostile_value)) if method != "GET" else []
    headers = {}
    if draw(st.booleans()):
        headers["HX-Request"] = "true"
        if draw(st.booleans()):
            current = draw(
                st.one_of(hostile_text(nul=False), st.just("/t/acme/keys/?" + query_string(query)))
            )
            headers["HX-Current-URL"] = header_value(current)
    csrf = draw(st.sampled_from(["valid"] * 6 + ["missing", "wrong"]))
    return {
        "persona": draw(st.sampled_from(PERSONAS)),
        "method": method,
        "path": path,
        "query": query_string(query),
        "body": query_string(body).encode("ascii"),
        "headers": headers,
        "csrf": csrf,
    }


def send(client, request, csrf_secret: str):
    headers = dict(request["headers"])
    if request["method"] != "GET":
        if request["csrf"] == "valid":
            headers["X-CSRFToken"] = csrf_secret
        elif request["csrf"] == "wrong":
            headers["X-CSRFToken"] = "B" * 32
    url = request["path"] + (f"?{request['query']}" if request["query"] else "")
    kwargs = {"headers": headers}
    if request["method"] != "GET":
        kwargs |= {
            "data": request["body"],
            "content_type": "application/x-www-form-urlencoded",
        }
    return client.generic(request["method"], url, **kwargs)


def refused(response) -> bool:
    """A 4xx, a redirect to sign in, or a page re-rendered with errors."""
    if response.status_code >= 400:
        return True
    if response.status_code in (301, 302) and "/accounts/sign-in/" in response.get("Location", ""):
        return True
    if response.status_code != 200 or not response.context:
        return False
    form = response.context.get("form")
    if form is not None and getattr(form, "is_bound", False) and form.errors:
        return True
    return bool(response.context.get("error"))
