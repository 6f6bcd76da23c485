import uuid

from django.conf import settings
from django.db import models

from tenants.models import Tenant


class Job(models.Model):
    """Long work started through the API and run by the task worker (DESIGN section 7)."""

    class Kind(models.TextChoices):
        USAGE_EXPORT = "usage_export", "Usage export"
        CUSTOMER_IMPORT = "customer_import", "Customer import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="jobs")
    environment = models.CharField(max_length=16)
    # The key that started it, and that key's owner (who may watch it from the portal).
    key_id = models.CharField("key ID", max_length=16)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    result = models.FileField(upload_to="jobs/", blank=True)
    rows = models.PositiveIntegerField(default=0)
    # Row errors of an import that was refused, {"row": n, "errors": {...}} each.
    details = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="job_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def error_summary(self) -> str:
        """The error's first sentence, for the Jobs table's cell; the rest is `error_more`."""
        head, sep, _ = self.error.partition(". ")
        return head + (sep.strip() if sep else "")

    @property
    def error_more(self) -> str:
        return self.error.partition(". ")[2]

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ExpiryNotice(models.Model):
    """That a key's owner was told, on `day`, that the key expires soon (one a key a day)."""

    key_id = models.CharField("key ID", max_length=16)
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_id", "day"], name="expirynotice_key_day")
        ]

    def __str__(self) -> str:
        return f"{self.key_id} on {self.day}"
