from django.test import Client


def csrf_token_for(client: Client, url: str) -> str:
    """Load a page as a browser would and read the CSRF token it rendered."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return str(response.context["csrf_token"])


def htmx_headers(token: str | None = None) -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if token:
        headers["X-CSRFToken"] = token
    return headers


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
