from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        # Their receivers: a sign-in is a fresh proof, and starts a listed session.
        from accounts import sessions, stepup, two_factor  # noqa: F401

        # Step-up asks for a code from an authenticator app or a recovery code when the user
        # has one; a user whose only factor is a passkey confirms with their password.
        stepup.register_second_factor(
            has_factor=two_factor.has_code_factor,
            verify_code=two_factor.verify_second_factor_code,
        )
