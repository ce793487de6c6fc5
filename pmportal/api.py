"""The SmartPlus app's side of the Premium controls: `GET /api/app/v1/community-settings`,
signed in as the app signs in for feedback (HTTP Basic with the end user's app account)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from notifications.views import _app_user, _Limited, _too_many, _unauthorized

from .selectors import app_community_settings


@require_GET
def community_settings(request):
    """200 {"community", "feature_plan", "premium_in_force", and the five switches}."""
    try:
        resident = _app_user(request)
    except _Limited:
        return _too_many()
    if resident is None:
        return _unauthorized()
    return JsonResponse(app_community_settings(resident=resident))
