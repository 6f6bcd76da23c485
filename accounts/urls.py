from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import stepup, views

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-in/second-factor/", views.second_factor, name="second_factor"),
    path(
        "sign-in/passkey/options/",
        views.second_factor_passkey_options,
        name="second_factor_passkey_options",
    ),
    path("sign-in/passkey/", views.second_factor_passkey, name="second_factor_passkey"),
    path("step-up/", stepup.confirm_page, name="step_up"),
    path("step-up/passkey/options/", stepup.passkey_options, name="step_up_passkey_options"),
    path("two-factor/", views.two_factor_overview, name="two_factor"),
    path("two-factor/app/", views.totp_setup, name="totp_setup"),
    path("two-factor/app/remove/", views.totp_remove, name="totp_remove"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "two-factor/passkeys/options/",
        views.passkey_register_options,
        name="passkey_register_options",
    ),
    path("two-factor/passkeys/", views.passkey_register, name="passkey_register"),
    path(
        "two-factor/passkeys/<int:passkey_id>/remove/",
        views.passkey_remove,
        name="passkey_remove",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("sessions/sign-out-others/", views.sessions_sign_out_others, name="sessions_sign_out"),
    path("sessions/<str:session_id>/sign-out/", views.session_sign_out, name="session_sign_out"),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
