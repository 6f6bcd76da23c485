from django import template

from accounts import two_factor
from accounts.models import Passkey, User

register = template.Library()


@register.simple_tag
def two_factor_summary(user: User) -> dict:
    """What the profile page says of the user's second factors."""
    return {
        "has_factor": two_factor.user_has_second_factor(user),
        "totp": two_factor.confirmed_totp(user) is not None,
        "passkeys": Passkey.objects.filter(user=user, confirmed=True).count(),
        "recovery_left": two_factor.recovery_codes_left(user),
    }
