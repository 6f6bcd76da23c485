"""A software passkey for tests that run without a browser: an ES256 credential that signs
WebAuthn assertions as an authenticator would (authenticator data, client data, signature),
so the server's checks (py_webauthn) run for real. Chromium's virtual authenticator covers the
browser's side in tests/browser."""

import hashlib
import json
import secrets
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from accounts.models import Passkey

# Flags: user present (0x01) and user verified (0x04).
FLAGS = 0x05


@dataclass
class SoftPasskey:
    origin: str = "http://testserver"
    rp_id: str = "testserver"
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def register(self, user, name: str = "Work laptop") -> Passkey:
        return Passkey.objects.create(
            user=user,
            name=name,
            credential_id=self.credential_id,
            public_key=self.cose_public_key(),
            confirmed=True,
        )

    def b64_id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def answer(self, options: str | bytes | dict, *, origin: str | None = None) -> str:
        """The credential JSON (as the browser's `credential.toJSON()`) for these options."""
        if not isinstance(options, dict):
            options = json.loads(options)
        self.sign_count += 1
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": options["challenge"],
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()
        authenticator_data = (
            hashlib.sha256(options.get("rpId", self.rp_id).encode()).digest()
            + bytes([FLAGS])
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        credential_id = bytes_to_base64url(self.credential_id)
        return json.dumps(
            {
                "id": credential_id,
                "rawId": credential_id,
                "type": "public-key",
                "response": {
                    "authenticatorData": bytes_to_base64url(authenticator_data),
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": None,
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )


def allowed_credential_ids(options: str | bytes) -> list[bytes]:
    return [base64url_to_bytes(c["id"]) for c in json.loads(options)["allowCredentials"]]
