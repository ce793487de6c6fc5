"""Resident emails: the SmartPlus app account (login and initial password) of a new resident, and
the new password after Reset Password."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def resident_account_email_send(*, resident, password: str, reset: bool = False) -> None:
    """Send `resident` its app account (email address), initial password, community and apartment;
    `reset`: the same email, saying the password was reset."""
    if not resident.email:
        return
    apartment = getattr(resident, "apartment", None)
    building = getattr(apartment, "building", None)
    context = {
        "name": (resident.display_name or "").strip(),
        "account": resident.email,
        "password": password,
        "community": resident.community.name,
        "building": getattr(building, "name", "") or "",
        "apartment": getattr(apartment, "number", "") or "",
        "reset": reset,
    }
    with translation.override(resident.language or "en"):
        # One line: a community name with a line break must not break the header.
        subject = " ".join(render_to_string("residents/email/account_subject.txt", context).split())
        body = render_to_string("residents/email/account_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [resident.email])
