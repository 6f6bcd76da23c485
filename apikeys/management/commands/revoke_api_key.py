from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.models import ApiKey
from apikeys.services import api_key_revoke_by_operator


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
        self.stderr.write(f"Revoked {key.name} ({key.key_id}) of {key.tenant.slug}.")
