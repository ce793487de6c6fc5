"""SmartPlus app accounts of end users: the initial password and the account email, and the new
password of Edit APT's Reset Password."""

from __future__ import annotations

import logging
import secrets

from django.contrib.auth.hashers import make_password
from django.db import transaction

from .emails import resident_account_email_send
from .models import Resident

logger = logging.getLogger(__name__)


def initial_password() -> str:
    return secrets.token_urlsafe(8)


def app_account_email(*, resident_id: int, reset: bool = False) -> bool:
    """Give the end user a fresh initial password and email it with the account.

    Runs in the worker so the plain password never passes through the broker. An account whose
    app is already registered is left alone (its owner chose a password), so a retry or a
    duplicate job cannot lock anyone out.

    `reset`: Reset Password was asked (resident_app_password_reset) — a new password for a
    registered account too, sent once per request.
    """
    if reset:
        return _app_password_reset_email(resident_id=resident_id)
    with transaction.atomic():
        resident = (
            Resident.objects.select_for_update(of=("self",))
            .select_related("community", "apartment__building")
            .filter(pk=resident_id)
            .first()
        )
        if resident is None or not resident.email or resident.app_registered_at is not None:
            logger.info("app_account_email: nothing to send for end user %s", resident_id)
            return False
        password = initial_password()
        resident.app_password = make_password(password)
        Resident.objects.filter(pk=resident.pk).update(app_password=resident.app_password)
    resident_account_email_send(resident=resident, password=password)
    return True


def _app_password_reset_email(*, resident_id: int) -> bool:
    """The new password of a Reset Password request, emailed while the row is locked: a failed send
    rolls the new password back and the retry sends again; a done request is not sent twice."""
    with transaction.atomic():
        resident = (
            Resident.objects.select_for_update(of=("self",))
            .select_related("community", "apartment__building")
            .filter(pk=resident_id)
            .first()
        )
        if resident is None or not resident.email or resident.app_password_reset_requested_at is None:
            logger.info("app password reset: nothing to send for end user %s", resident_id)
            return False
        password = initial_password()
        Resident.objects.filter(pk=resident.pk).update(
            app_password=make_password(password),
            app_password_reset_requested_at=None,
        )
        resident_account_email_send(resident=resident, password=password, reset=True)
    return True
