from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from apikeys.services import register_customer_counter
        from customers.selectors import count_customers

        register_customer_counter(count_customers)
