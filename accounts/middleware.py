"""Resolves `request.real_user` under an impersonation, before `smartplus.middleware.ActorMiddleware`.

Under django-hijack, `request.user` is the installer being acted as; the real login is the last
entry of the session's hijack history. A grant that was revoked ends the acting on this request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext

from . import impersonation


class ImpersonationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.real_user = user
        if user.is_authenticated and request.session.get("hijack_history"):
            real = impersonation.real_user_of(request)
            if real is None or not impersonation.may_act_as(real, user):
                impersonation.release(request, reason="permission revoked")
                messages.warning(
                    request, gettext("The installer withdrew the permission; you are back in your account.")
                )
                return redirect("home")
            request.real_user = real
        return self.get_response(request)


class UILanguageMiddleware:
    """The user's saved UI language (`User.ui_language`), after LocaleMiddleware and auth.

    Signed in with a saved language: that language, whatever the cookie or the browser says.
    Otherwise LocaleMiddleware's choice stands (the language cookie, then Accept-Language).
    Whenever a signed-in user's saved language differs from the cookie, the response sets the
    cookie too (right after the login as well), so the login page after a logout stays in it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _person(request):
        # The person at the keyboard (under an impersonation, the distributor, not the installer).
        user = getattr(request, "real_user", None)
        if user is None or not user.is_authenticated:
            user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def __call__(self, request):
        person = self._person(request)
        code = getattr(person, "ui_language", "") if person else ""
        if code and code in dict(settings.LANGUAGES):
            translation.activate(code)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # A login during this request (request.user is the new user now) or a change elsewhere.
        person = self._person(request)
        code = getattr(person, "ui_language", "") if person else ""
        if (
            code
            and code in dict(settings.LANGUAGES)
            and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != code
        ):
            set_language_cookie(response, code)
        return response


def set_language_cookie(response, code: str) -> None:
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
