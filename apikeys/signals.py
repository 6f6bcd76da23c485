"""What the apikeys app tells the apps built on it, without importing them.

Sent by the services, inside the transaction of the change (never from a model signal, which
`.update()` skips); the gateway publishes it to every worker right after the commit."""

from django.dispatch import Signal

# The keys whose verification may have changed. Sent with `key_ids`.
keys_changed = Signal()
