"""Every time of day the key pages show says its zone: the key page's Last used as its
Created and Last updated do, and the Last used column of both key tables."""

from datetime import UTC, datetime

from django.urls import reverse

from apikeys.models import ApiKey


def test_last_used_says_utc_on_the_key_page_and_in_both_tables(
    make_key, developer, admin, client_for
):
    key, _ = make_key(developer, name="Billing export")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=datetime(2026, 11, 2, 14, 2, tzinfo=UTC))
    dev = client_for(developer)
    detail = dev.get(reverse("apikeys:detail", args=["acme", key.key_id])).content.decode()
    assert "<dt>Last used</dt><dd>2026-11-02 14:02 UTC</dd>" in detail
    mine = dev.get(reverse("apikeys:my_keys", args=["acme"])).content.decode()
    assert '<span class="muted time-of-day">14:02 UTC</span>' in mine
    console = client_for(admin).get(reverse("apikeys:console", args=["acme"])).content.decode()
    assert '<span class="muted time-of-day">14:02 UTC</span>' in console


def test_a_key_never_used_says_never(make_key, developer, client_for):
    key, _ = make_key(developer, name="Fresh")
    page = client_for(developer).get(reverse("apikeys:detail", args=["acme", key.key_id]))
    assert "<dt>Last used</dt><dd>Never</dd>" in page.content.decode()
