"""What the accounts app tells the apps built on it, without importing them.

Sent by `accounts.services` inside the transaction of the change; the tenants app records
each as an account-level event (`tenants.receivers`), so the record commits with the change."""

from django.dispatch import Signal

# A user's second factors changed. Sent with `user`, `actor` (who did it: the user, or a
# system admin for a reset), `action` (an `Event.Action` value), `changes` (a dict without
# any secret) and `ip_address`.
second_factor_changed = Signal()
