"""SmartPlus portal project package: settings, URLs, Celery app and the in-house framework."""

from .celery import app as celery_app

__all__ = ("celery_app",)
