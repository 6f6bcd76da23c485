"""What the tenants app tells the apps built on it, without importing them.

Both are sent by the services, inside the transaction of the change (never from a model
signal, which `.update()` skips); receivers that must act after the commit use on_commit."""

from django.dispatch import Signal

# A tenant's activity or key policy changed: anything cached about its keys is stale.
# Sent with `tenant`.
tenant_changed = Signal()

# A member is leaving a tenant; receivers take away what the membership gave (its API keys).
# Sent with `tenant`, `user`, `actor`, `ip_address`, before the membership is deleted.
member_leaving = Signal()
