"""Small helpers for views that answer both full-page and HTMX requests."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

CLOSE_MODAL = "closeModal"


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (its typing, as in django-htmx's docs)."""

    htmx: HtmxDetails


def render_page(
    request: HtmxHttpRequest,
    template: str,
    partial: str,
    context: dict[str, object],
    *,
    status: int = 200,
) -> HttpResponse:
    """The whole page for a normal request, only `partial` of it for an HTMX one. htmx's
    history restore (Back to a page no longer in its cache) needs the whole page too."""
    whole = not request.htmx or request.htmx.boosted or request.htmx.history_restore_request
    response = render(
        request, template if whole else f"{template}#{partial}", context, status=status
    )
    # One URL, two answers: a cache must not give the fragment to a page load.
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


def announce_and_close(request: HtmxHttpRequest, event: str) -> HttpResponse:
    """After a successful write in a dialog: the toast (out of band) and, in `HX-Trigger`,
    `event` (what shows the changed thing listens with `hx-trigger="<event> from:body"` and
    refetches itself), then `closeModal`. Nothing else is swapped."""
    response = render(request, "includes/messages_oob.html")
    response["HX-Reswap"] = "none"
    trigger_client_event(response, event)
    return trigger_client_event(response, CLOSE_MODAL)
