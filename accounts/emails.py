"""Account emails: the set-password link a new or reset account receives."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def set_password_url(user) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return settings.SMARTPLUS_BASE_URL.rstrip("/") + path


def account_email_send(*, user) -> None:
    """Send `user` its login name and a link to choose a password (valid until used)."""
    if not user.email:
        return
    with translation.override(user.language or "en"):
        context = {"user": user, "url": set_password_url(user), "login_url": settings.SMARTPLUS_BASE_URL}
        subject = render_to_string("accounts/email/account_subject.txt", context).strip()
        body = render_to_string("accounts/email/account_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
