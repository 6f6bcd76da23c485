from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        # Their receivers: a sign-in is a fresh proof, and starts a listed session.
        from accounts import sessions, stepup, throttling, two_factor  # noqa: F401

        # Step-up asks for a code from an authenticator app or a recovery code when the user
        # has one, and offers the user's passkeys; only a user with neither gives a password.
        stepup.register_second_factor(
            has_factor=two_factor.has_code_factor,
            verify_code=two_factor.verify_second_factor_code,
            has_passkey=two_factor.has_passkey,
            passkey_options=two_factor.passkey_authentication_options,
            verify_passkey=two_factor.passkey_proves,
        )
