from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import sessions
from web.inputs import whole_number


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on (the profile), when it is one of ours."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe and target.startswith("/") else "home")


@require_POST
@login_required
def session_sign_out(request: HttpRequest, session_id: str) -> HttpResponse:
    """Sign out one other session of the signed-in user (this one signs out with Sign out)."""
    number = whole_number(session_id)
    if number is None or not sessions.end_session(
        request.user, session_id=number, keep_session_key=request.session.session_key
    ):
        raise Http404("No such session")
    messages.success(request, "That session was signed out.")
    return _back(request)


@require_POST
@login_required
def sessions_sign_out_others(request: HttpRequest) -> HttpResponse:
    count = sessions.end_sessions(request.user, keep_session_key=request.session.session_key)
    messages.success(request, f"{count} other session{'s' if count != 1 else ''} signed out.")
    return _back(request)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, and then every other session of the user is signed out; this one stays."""

    def form_valid(self, form):
        response = super().form_valid(form)  # update_session_auth_hash gives a new key
        sessions.follow_key(self.request)
        sessions.end_sessions(form.user, keep_session_key=self.request.session.session_key)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and then every session of the user is signed out (a lost password)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.end_sessions(form.user)
        return response
