from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> "User":
        if not email:
            raise ValueError("Users must have an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are unique regardless of case, so sign-in is case-insensitive too.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address and a password."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the system admin site (with superuser)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name or self.email


class Passkey(Device):
    """A passkey or security key (WebAuthn credential) registered as a second factor.

    A django-otp device, so that `user_has_device`, the OTP middleware's `is_verified()` and
    the session's verified device treat it as the TOTP and recovery-code devices are treated;
    it takes no typed token (`verify_token` is False): `accounts.two_factor` verifies its
    assertions with py_webauthn. Holds the credential's public key, never a secret."""

    credential_id = models.BinaryField(max_length=1023, unique=True)
    public_key = models.BinaryField(max_length=2048)
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(Device.Meta):
        ordering = ["created_at", "id"]

    def verify_token(self, token: object) -> bool:
        return False


class UserSession(models.Model):
    """One signed-in session of a user, whatever the session engine: what the profile lists
    and can sign out. Created at sign-in, deleted at sign-out; `last_seen_at` is refreshed at
    most once a minute (accounts.sessions.SessionActivityMiddleware)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    # The engine's key: never shown, never in a URL (the row's id is).
    session_key = models.CharField(max_length=64, unique=True)
    device = models.CharField(max_length=100, blank=True)
    ip_address = models.GenericIPAddressField("client IP", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"{self.device or 'Unknown device'} ({self.user})"
