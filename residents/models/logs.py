"""What happened in an apartment: door log, call history, messages and alarms.

Devices report these (a later issue); an apartment reset removes them. They are history, not
configuration, so they are not written to the audit log.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartplus.scoping import ScopedManager

from .apartments import Apartment


class ApartmentLog(models.Model):
    scope_root = "community"
    scope_path = "apartment__community"

    apartment = models.ForeignKey(Apartment, on_delete=models.CASCADE, related_name="+")
    time = models.DateTimeField(_("Time"), db_index=True)

    objects = ScopedManager()

    class Meta:
        abstract = True
        ordering = ["-time", "-pk"]


class DoorLog(ApartmentLog):
    device_name = models.CharField(_("Device"), max_length=64, blank=True)
    initiator = models.CharField(_("Initiator"), max_length=128, blank=True)
    method = models.CharField(_("Type"), max_length=32, blank=True)
    success = models.BooleanField(_("Result"), default=True)

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.method}"


class CallHistory(ApartmentLog):
    caller = models.CharField(_("Caller"), max_length=128)
    callee = models.CharField(_("Callee"), max_length=128)
    answered = models.BooleanField(_("Answered"), default=False)
    duration_seconds = models.PositiveIntegerField(_("Duration"), default=0)

    class Meta(ApartmentLog.Meta):
        verbose_name_plural = "call history"

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee}"


class Message(ApartmentLog):
    title = models.CharField(_("Title"), max_length=128)
    content = models.TextField(_("Content"), blank=True)

    def __str__(self) -> str:
        return self.title


class Alarm(ApartmentLog):
    device_name = models.CharField(_("Device"), max_length=64, blank=True)
    alarm_type = models.CharField(_("Alarm type"), max_length=64)
    dealt = models.BooleanField(_("Dealt"), default=False)

    def __str__(self) -> str:
        return self.alarm_type
