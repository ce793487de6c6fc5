"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys from SMARTPLUS_FIELD_KEYS.

The first key encrypts; all keys decrypt (MultiFernet), which is what key rotation needs: put a
new key in front, run `manage.py rotate_field_keys`, then drop the old key.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables


class UndecryptableError(Exception):
    """No configured key opens the token (a key was dropped before rotation finished)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("SMARTPLUS_FIELD_KEYS is empty: no key to encrypt secrets with.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "SMARTPLUS_FIELD_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)."
        ) from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SMARTPLUS_FIELD_KEYS))


@sensitive_variables("plain")
def encrypt(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableError("No key in SMARTPLUS_FIELD_KEYS opens this secret.") from exc


def rotate(token: str) -> str:
    """The same secret encrypted with the first key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableError("No key in SMARTPLUS_FIELD_KEYS opens this secret.") from exc


def is_current(token: str) -> bool:
    """Whether the token was made with the first key (nothing to rotate)."""
    first = _fernet((settings.SMARTPLUS_FIELD_KEYS[0],))
    try:
        first.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
