from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        # Their receivers: a sign-in is a fresh proof, and starts a listed session.
        from accounts import sessions, stepup  # noqa: F401
