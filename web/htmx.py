"""Small helpers for views that answer both full-page and HTMX requests."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event

CLOSE_MODAL = "keyward:close-modal"


def render_page(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict[str, object],
    *,
    status: int = 200,
) -> HttpResponse:
    """The whole page for a normal request, only `partial` of it for an HTMX one."""
    name = f"{template}#{partial}" if request.htmx and not request.htmx.boosted else template
    return render(request, name, context, status=status)


def swap_and_close(
    request: HttpRequest, template: str, partial: str, context: dict[str, object]
) -> HttpResponse:
    """After a successful modal form: replace `#<partial>` on the page and close the modal."""
    response = render(request, f"{template}#{partial}", context)
    response["HX-Retarget"] = f"#{partial}"
    response["HX-Reswap"] = "outerHTML"
    return trigger_client_event(response, CLOSE_MODAL)
