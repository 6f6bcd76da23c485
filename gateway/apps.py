from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "API gateway"

    def ready(self) -> None:
        from gateway import receivers  # noqa: F401
