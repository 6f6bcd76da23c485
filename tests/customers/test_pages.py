"""The customers pages of the portal: the list per environment, a customer's licence and usage."""

from datetime import date

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, LicenseFactory, SeatUsageFactory

CUSTOMERS = reverse("customers:list", args=["acme"])


@pytest.fixture
def customers(acme, globex):
    initech = CustomerFactory(tenant=acme, name="Initech")
    LicenseFactory(customer=initech, seats=40, tier="premium")
    SeatUsageFactory(customer=initech, day=date.today(), seats_used=31)
    CustomerFactory(tenant=acme, environment="staging", name="Stage Co")
    foreign = CustomerFactory(tenant=globex, name="Globex Co")
    return {"initech": initech, "foreign": foreign}


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("developer", 200), ("member", 403), ("outsider", 404)]
)
def test_customer_pages_access(personas, client_for, customers, persona, status):
    client = client_for(personas[persona])
    assert client.get(CUSTOMERS).status_code == status
    detail = reverse("customers:detail", args=["acme", customers["initech"].public_id])
    assert client.get(detail).status_code == status


def test_customers_are_listed_per_environment_and_searchable(admin, client_for, customers):
    client = client_for(admin)
    page = client.get(CUSTOMERS).content.decode()
    assert "Initech" in page and "Stage Co" not in page and "Globex Co" not in page
    assert "Stage Co" in client.get(CUSTOMERS + "?environment=staging").content.decode()
    assert "Initech" not in client.get(CUSTOMERS + "?q=nothing").content.decode()


def test_a_customer_page_shows_its_licence_and_a_usage_chart(admin, client_for, customers):
    url = reverse("customers:detail", args=["acme", customers["initech"].public_id])
    page = client_for(admin).get(url).content.decode()
    assert "Premium" in page and ">40<" in page
    assert "<svg" in page and "31 seats" in page


def test_another_tenants_customer_is_a_404(admin, client_for, customers):
    url = reverse("customers:detail", args=["acme", customers["foreign"].public_id])
    assert client_for(admin).get(url).status_code == 404
