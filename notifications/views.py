"""The notification log (installers, sub-installers, the super manager) and the app's feedback
endpoint (docs/notifications.md)."""

from __future__ import annotations

import base64
import binascii
import json

from allauth.core import ratelimit
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from residents.models import Resident
from smartplus.views import generic

from .feedback import MAX_LENGTH, submit_feedback
from .filters import NotificationFilterSet
from .models import Notification
from .tables import NotificationTable


class NotificationListView(generic.ObjectListView):
    model = Notification
    table_class = NotificationTable
    filterset_class = NotificationFilterSet
    title = _("Notification Log")

    def get_table_queryset(self):
        return self.get_queryset().select_related("community")


class _Limited(Exception):
    """Too many failed sign-ins from this address or for this account, or too much feedback."""


def _consume(request, action: str, key: str, *, dry_run: bool = False) -> bool:
    try:
        return ratelimit.consume(request, action=action, key=key, dry_run=dry_run)
    except PermissionDenied:  # no client address at all
        return False


def _app_user(request) -> Resident | None:
    """The end user the SmartPlus app signs in as: HTTP Basic with the account (email) and app
    password the account email gave. Failed sign-ins count per client address and per account
    (ACCOUNT_RATE_LIMITS["app_login_failed"]), as the portal's login does: a guessed password
    runs into the limit, the right one afterwards is refused too until it passes."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        email, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key = email.strip().lower()
    if not _consume(request, "app_login_failed", key, dry_run=True):
        raise _Limited
    resident = (
        Resident.objects.select_related("community", "apartment__building")
        .filter(email__iexact=email)
        .exclude(email="")
        .first()
    )
    if resident is None or not resident.app_password or not check_password(password, resident.app_password):
        _consume(request, "app_login_failed", key)
        return None
    return resident


def _unauthorized() -> JsonResponse:
    response = JsonResponse({"error": "Sign in with the app account and password."}, status=401)
    response["WWW-Authenticate"] = 'Basic realm="SmartPlus app"'
    return response


def _too_many() -> JsonResponse:
    response = JsonResponse({"error": "Too many requests; try again later."}, status=429)
    response["Retry-After"] = "300"
    return response


@csrf_exempt
@require_POST
def feedback(request):
    """POST /api/app/v1/feedback {"text": "..."}: 202 {"forwarded": bool}."""
    try:
        resident = _app_user(request)
    except _Limited:
        return _too_many()
    if resident is None:
        return _unauthorized()
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "The body must be JSON."}, status=400)
    text = (body.get("text") or "").strip() if isinstance(body, dict) else ""
    if not text or len(text) > MAX_LENGTH:
        return JsonResponse({"error": f"Write 1 to {MAX_LENGTH} characters."}, status=400)
    # Each message is an email to the installer: an end user cannot flood their inbox.
    if not _consume(request, "app_feedback", str(resident.pk)):
        return _too_many()
    row = submit_feedback(resident=resident, text=text)
    return JsonResponse({"forwarded": row is not None}, status=202)
