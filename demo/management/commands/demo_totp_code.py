from django.core.management.base import BaseCommand
from django_otp.oath import TOTP

from demo.management.commands.seed_demo import DEMO_TOTP_KEY_HEX


class Command(BaseCommand):
    help = "Print the code root@keyward.test's demo authenticator app shows now (demo only)."

    def handle(self, *args: object, **options: object) -> None:
        generator = TOTP(bytes.fromhex(DEMO_TOTP_KEY_HEX))
        self.stdout.write(f"{generator.token():06d}")
