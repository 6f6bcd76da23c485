"""The endpoint wrapper and the API's catch-all: outages, other methods and unknown paths
are problem+json answers."""

import pytest


def test_a_database_outage_is_a_503_problem(api, new_key, monkeypatch):
    from django.db import OperationalError

    from gateway import verification

    key = new_key()

    def down(key_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(verification, "_load", down)
    response = api("GET", "/me", key)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "connection refused" not in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/api/health", "/api/production/v1/openapi.json", "/api/system/v1/openapi.json"]
)
def test_public_api_views_answer_other_methods_with_a_405_problem(url):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    for method in ("post", "put", "patch", "delete", "options"):
        response = getattr(client, method)(url)
        assert response.status_code == 405, (method, response.status_code)
        assert response["Content-Type"] == "application/problem+json"
        assert response["Allow"] == "GET, HEAD"
    assert client.head(url).status_code == 200


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/api//v1/me", "There is no such environment."),
        ("/api/prod/v1/me", "There is no such environment."),
        ("/api/system/v1/nothing-here", "There is no such endpoint."),
        ("/api/production/v1/nothing-here", "There is no such endpoint."),
        ("/api/nothing", "There is no such endpoint."),
    ],
)
def test_every_unknown_api_path_is_a_404_problem(url, detail):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == detail
