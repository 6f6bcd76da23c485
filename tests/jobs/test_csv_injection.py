"""CSV cells a spreadsheet would run as formulas are neutralised (SECURITY.md 26, OWASP)."""

import csv
import io
from datetime import date

import pytest

from customers.models import Customer, SeatUsage
from web.text import csv_cell

FORMULAS = ['=HYPERLINK("https://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_cell_that_starts_a_formula_gets_a_leading_apostrophe(cell):
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Initech", "O'Brien", " =x", "a=b", "", 5, -3, True])
def test_other_cells_and_numbers_pass_unchanged(cell):
    assert csv_cell(cell) == cell


def test_the_usage_export_neutralises_formula_cells(
    api, new_key, acme, django_capture_on_commit_callbacks
):
    # Made before names were checked, or through the admin: the export must not trust them.
    for name in FORMULAS:
        customer = Customer.objects.create(tenant=acme, environment="production", name=name)
        SeatUsage.objects.create(customer=customer, day=date.today(), seats_used=3)
    key = new_key(scopes=["usage:read"])
    today = date.today().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        started = api("POST", "/exports", key, {"period": "daily", "from": today, "to": today})
    status = api("GET", started["Location"], key).json()
    download = api("GET", status["download_url"], key).content.decode()
    rows = list(csv.DictReader(io.StringIO(download, newline="")))
    assert sorted(row["customer_name"] for row in rows) == sorted("'" + n for n in FORMULAS)
    assert {row["seats_used"] for row in rows} == {"3"}
