"""The redirect links of the expiration emails: the Subscriptions module's Renew step, pre-filtered
to the accounts an email names (billing's Renew page reads `?community=` and `?items=`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

RENEW_URL_NAME = "billing:renew"  # billing's Renew step, which reads ?community= and ?items=
# A link longer than this would not survive every mail client: past it, the community alone.
MAX_ITEMS_IN_LINK = 200


def renew_path() -> str:
    return reverse(RENEW_URL_NAME)


def renew_url(community_id: int, items: list[tuple[str, int]]) -> str:
    """Absolute: emails are sent by the worker, outside any request."""
    query = {"community": community_id}
    if items and len(items) <= MAX_ITEMS_IN_LINK:
        query["items"] = ",".join(f"{kind}:{pk}" for kind, pk in items)
    return f"{settings.SMARTPLUS_BASE_URL.rstrip('/')}{renew_path()}?{urlencode(query, safe=':,')}"
