from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.models import ApiKey
from apikeys.services import api_key_revoke_by_operator
from gateway.keystate import wait_published
from gateway.verification import MAX_RECORD_AGE


class Command(BaseCommand):
    help = "Revoke an API key by its key ID, at once and for good."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id")

    def handle(self, *args: object, **options) -> None:
        try:
            key = api_key_revoke_by_operator(key_id=options["key_id"])
        except ApiKey.DoesNotExist:
            raise CommandError(f"No API key has the ID {options['key_id']}.") from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        # Done means every worker refuses the key: Redis has the change, or no cached copy
        # made before it can still be trusted (records are re-read after MAX_RECORD_AGE).
        if not wait_published(timeout=1.0):
            self.stderr.write("Redis has not acknowledged the change yet; waiting...")
            wait_published(timeout=MAX_RECORD_AGE - 1.0)
        self.stderr.write(f"Revoked {key.name} ({key.key_id}) of {key.tenant.slug}.")
