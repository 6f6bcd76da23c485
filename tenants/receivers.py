"""What the tenants app does when an app below it reports a change."""

from typing import Any

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import second_factor_changed
from tenants.models import Event
from tenants.services import event_record


@receiver(second_factor_changed, dispatch_uid="tenants.second_factor_event")
def record_second_factor_change(
    sender: Any,
    *,
    user: User,
    actor: User | None,
    action: str,
    changes: dict,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    """One account-level event (no tenant): the factor belongs to the person, whichever
    tenants they are in; the system admin site lists it under the user."""
    event_record(
        action=Event.Action(action),
        actor=actor,
        tenant=None,
        target_type="user",
        target_id=str(user.pk),
        target_name=user.email,
        changes=changes,
        ip_address=ip_address,
    )
