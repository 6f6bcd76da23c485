import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from leaks import services

IDENTIFIER = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def signing_key():
    """The test reporter's private key (GitHub keeps its own; we hold only the public half)."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def reporter(db, root, signing_key):
    return services.reporter_create(
        name="GitHub", key_identifier=IDENTIFIER, public_key_pem=_pem(signing_key), actor=root
    )


def sign(body: bytes, private_key) -> str:
    return base64.b64encode(private_key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture
def send_report(reporter, signing_key, django_capture_on_commit_callbacks):
    """send_report(matches or raw bytes, identifier=..., signature=..., key=...) -> response."""

    def send(matches, *, identifier=IDENTIFIER, signature=None, key=None, client=None):
        body = matches if isinstance(matches, bytes) else json.dumps(matches).encode()
        headers = {"GITHUB-PUBLIC-KEY-IDENTIFIER": identifier}
        headers["GITHUB-PUBLIC-KEY-SIGNATURE"] = (
            signature if signature is not None else sign(body, key or signing_key)
        )
        with django_capture_on_commit_callbacks(execute=True):  # the emails
            return (client or Client()).post(
                "/api/leaks/github", data=body, content_type="application/json", headers=headers
            )

    return send


def match(token: str, url: str = "https://github.com/acme/site/blob/abc123/config.py#L3"):
    return {"token": token, "type": "keyward_api_key", "url": url, "source": "commit"}
