from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.models import Environment, Scope, today
from apikeys.services import api_key_create
from tenants.models import Membership


class Command(BaseCommand):
    help = (
        "Create an API key for a developer of a tenant, under the tenant's policy, and print "
        "the key (and nothing else) on stdout. Without --expires, a tenant with a maximum "
        "expiration gets a key that lasts that maximum."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug, e.g. acme")
        parser.add_argument("--owner", required=True, help="email of a developer of the tenant")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--environment", required=True, choices=Environment.values)
        parser.add_argument(
            "--scope", action="append", required=True, choices=Scope.values, dest="scopes"
        )
        parser.add_argument("--expires", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--rate-limit", type=int, help="requests per minute")
        parser.add_argument(
            "--allow-cidr",
            action="append",
            dest="allowed_networks",
            metavar="CIDR",
            help="an IPv4 or IPv6 range the key may be used from (repeatable); without it, "
            "the tenant's default allowlist",
        )

    def handle(self, *args: object, **options) -> None:
        membership = (
            Membership.objects.select_related("tenant", "tenant__settings", "user")
            .filter(
                tenant__slug=options["tenant"],
                user__email__iexact=options["owner"],
                user__is_active=True,
            )
            .first()
        )
        if membership is None:
            raise CommandError(f"{options['owner']} is not a member of {options['tenant']}.")
        expires = options["expires"]
        max_days = membership.tenant.settings.max_expiration_days
        if expires is None and max_days:
            expires = today() + timedelta(days=max_days)
        try:
            _, secret = api_key_create(
                membership=membership,
                name=options["name"],
                description=options["description"],
                environment=options["environment"],
                scopes=options["scopes"],
                rate_limit=options["rate_limit"],
                expires_on=expires,
                allowed_networks=options["allowed_networks"],
                via="command line",
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(secret)
