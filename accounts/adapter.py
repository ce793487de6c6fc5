"""django-allauth adapter: accounts are created by distributors and installers, never self-signed-up;
login limits count per account and per client address (behind the declared proxies)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from smartplus.http import client_address

from .backends import user_for_login


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys the failed-login limit on the typed login (and the Host header), so the
        # same account had ten more tries by its email. Key on the account it names; a login
        # naming none on its normalised text. The password reset clears through this key too.
        login = credentials.get("email") or credentials.get("username") or ""
        user = user_for_login(login)
        return f"user:{user.pk}" if user is not None else f"login:{login.strip().lower()}"

    def get_client_ip(self, request) -> str:
        address = client_address(request)
        if not address:
            raise PermissionDenied(gettext("Unable to determine the client's address."))
        return address
