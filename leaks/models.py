from django.db import models

from web.text import validate_name


class TrustedReporter(models.Model):
    """A secret scanner whose signed reports of leaked keys are acted on (GitHub's secret
    scanning partner program, or another that speaks its protocol). Managed by system admins;
    every write goes through `leaks.services`, with its event."""

    name = models.CharField(
        max_length=100,
        validators=[validate_name],
        help_text='Who reports, as events and emails name it: for example "GitHub".',
    )
    key_identifier = models.CharField(
        "key identifier",
        max_length=128,
        unique=True,
        help_text="The value the reporter sends in GITHUB-PUBLIC-KEY-IDENTIFIER "
        "(GitHub lists its own at https://api.github.com/meta/public_keys/secret_scanning).",
    )
    public_key_pem = models.TextField(
        "public key (PEM)",
        help_text="The reporter's ECDSA P-256 public key, "
        "from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----.",
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Reports signed with an inactive key are refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "key_identifier"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_identifier[:16]})"
