"""Password login: a login names at most one account, and every attempt runs the hasher once.

With Django's ModelBackend and allauth's backend side by side, a wrong password for an existing
email was hashed three times (ModelBackend's dummy hash for the unknown "username", then allauth
checking the email once as a username and once as an email) against twice for an unknown one:
one request per guess told which emails have accounts. This backend resolves the login once and
checks one password; allauth's base runs the dummy hash when there was no account to check.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model


def user_for_login(login: str | None):
    """The account a typed login names, by email (case-insensitive, unique) or username (exact,
    else the only case-insensitive match); None if it names none."""
    login = (login or "").strip()
    if not login:
        return None
    users = get_user_model().objects
    if "@" in login:
        user = users.filter(email__iexact=login).exclude(email="").first()
        if user is not None:
            return user
    matches = list(users.filter(username__iexact=login))
    exact = [u for u in matches if u.username == login]
    if exact:
        return exact[0]
    return matches[0] if len(matches) == 1 else None


class LoginBackend(AuthenticationBackend):
    """allauth's backend (inactive accounts go to its "account inactive" page, permissions as
    Django's ModelBackend) with one lookup and one password check per attempt."""

    def _authenticate(self, request, **credentials):
        login = credentials.get("email") or credentials.get("username")
        return self._check_password(user_for_login(login), credentials.get("password") or "")
