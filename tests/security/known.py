"""The hostile inputs known (from the hardening issue) to fail today, one entry per item.

While an item is not fixed, the broad property tests leave its trigger out (so that they
keep looking for other failures) and its targeted test in test_known_defects.py is an
expected failure, strictly: when the fix merges that test passes unexpectedly and fails the
run. Then set `fixed` to True here: the targeted test must pass and the broad tests throw
the trigger again.
"""

from dataclasses import dataclass

import pytest
from django.conf import settings


@dataclass(frozen=True)
class Item:
    number: int
    summary: str
    fixed: bool = False
    postgres_only: bool = False

    @property
    def open(self) -> bool:
        """True where the defect still shows on this run's database."""
        if self.fixed:
            return False
        return not self.postgres_only or on_postgres()

    def xfail(self) -> pytest.MarkDecorator:
        prefix = "" if self.summary.startswith("NEW:") else f"hardening item {self.number}: "
        return pytest.mark.xfail(condition=self.open, strict=True, reason=prefix + self.summary)


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


DEEP_JSON = Item(1, "deeply nested JSON on JSON endpoints raises RecursionError (500)", fixed=True)
NON_ASCII_DIGITS = Item(
    2, "non-ASCII digits in page/per_page ('²'.isdigit()) answer 500", fixed=True
)
HUGE_CSV_FIELD = Item(
    3, "a 200 KB CSV field in an import answers 500 (csv field limit)", fixed=True
)
NUL_ON_POSTGRES = Item(
    4,
    "NUL in portal query strings, path segments, a JWT header or customer IDs answers 503 "
    "on PostgreSQL",
    postgres_only=True,
    fixed=True,
)
MALFORMED_JOB_ID = Item(5, "a malformed job UUID in a portal URL answers 500", fixed=True)
BAD_HOST = Item(
    6, "a Host outside ALLOWED_HOSTS answers 500 (a context processor reads user)", fixed=True
)
HUGE_MAX_EXPIRATION = Item(
    7, "max expiration days of 2,147,483,647 makes the create page 500", fixed=True
)
CONTROL_CHARS_IN_NAMES = Item(
    8, "names with control characters or bidi overrides are accepted", fixed=True
)
CSV_FORMULAS = Item(
    9, "CSV cells a spreadsheet would run as formulas are exported as they are", fixed=True
)

# Found by these tests, not in the list.
HTML_ERRORS_ON_PUBLIC_API = Item(
    10,
    "NEW: GET-only API endpoints (/api/health, the three openapi.json) answer POST/PUT/PATCH/"
    "DELETE with Django's HTML CSRF 403 page, HEAD/OPTIONS with an empty text/html 405: "
    "never a 405 problem",
    fixed=True,
)
EMPTY_ENVIRONMENT = Item(
    11,
    "NEW: /api//v1/<anything> (empty environment) answers the portal's HTML 404, not a problem",
    fixed=True,
)
