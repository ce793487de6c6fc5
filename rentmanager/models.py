"""Rent Manager connections (one per installer), what they sync, and the sync log.

The links map Rent Manager ids to SmartPlus rows (property -> community, unit -> apartment,
contact -> family member), so a re-sync updates the same rows and notices what disappeared.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from residents.models import Apartment, Resident
from smartplus import crypto
from smartplus.models import TimeStampedModel
from smartplus.scoping import ScopedManager

from .choices import Kind, Outcome, RunStatus


class Connection(TimeStampedModel):
    """An installer account linked to a Rent Manager 12 company by the super manager."""

    scope_root = "installer"
    scope_path = "installer"

    installer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rentmanager_connection"
    )
    base_url = models.URLField(_("Base URL"), help_text=_("https://<company code>.api.rentmanager.com"))
    username = models.CharField(_("API user"), max_length=128)
    # Fernet token (smartplus.crypto, SMARTPLUS_FIELD_KEYS); never shown again once saved.
    password_encrypted = models.TextField(editable=False)
    location_id = models.PositiveIntegerField(_("Location ID"), null=True, blank=True)
    enabled = models.BooleanField(_("Daily sync"), default=True)
    # The local day (SMARTPLUS_RENTMANAGER_SYNC_TZ) of the last scheduled sync: once a day.
    last_scheduled_on = models.DateField(null=True, blank=True, editable=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["installer__username"]

    def __str__(self) -> str:
        return f"{self.installer} ↔ {self.base_url}"

    def set_password(self, plain: str) -> None:
        self.password_encrypted = crypto.encrypt(plain)

    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)


class SyncedProperty(models.Model):
    """A property picked for the sync, and the community it became."""

    scope_root = "installer"
    scope_path = "connection__installer"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="properties")
    rm_id = models.PositiveIntegerField(_("Rent Manager property id"))
    name = models.CharField(_("Property"), max_length=128)
    community = models.OneToOneField(
        Community, on_delete=models.SET_NULL, null=True, blank=True, related_name="rentmanager_property"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint("connection", "rm_id", name="rm_property_once")]

    def __str__(self) -> str:
        return self.name


class UnitLink(models.Model):
    """A Rent Manager unit and the apartment it became.

    The links carry no database constraint on their references (as the audit log's): a first
    sync writes 25,000 of them in a few transactions, and two checks per link at COMMIT cost a
    third of it. Django's on_delete still cascades (the Collector and smartplus.deletion plan
    from the relations), so deleting an apartment, a family member or a property takes its
    links along (tests/rentmanager/test_links.py)."""

    # Indexed by (prop, rm_id), as the contacts' prop below.
    prop = models.ForeignKey(
        SyncedProperty, on_delete=models.CASCADE, related_name="units", db_index=False, db_constraint=False
    )
    rm_id = models.PositiveIntegerField()
    apartment = models.OneToOneField(
        Apartment, on_delete=models.CASCADE, related_name="rentmanager_unit", db_constraint=False
    )
    # Flagged as gone from Rent Manager (the apartment stays for a person to decide).
    missing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint("prop", "rm_id", name="rm_unit_once")]

    def __str__(self) -> str:
        return f"unit {self.rm_id}"


class ContactLink(models.Model):
    """A Rent Manager contact and the family member it became (no database constraints: see
    UnitLink)."""

    prop = models.ForeignKey(
        SyncedProperty, on_delete=models.CASCADE, related_name="contacts", db_index=False, db_constraint=False
    )
    rm_id = models.PositiveIntegerField()  # the contact's ContactID
    tenant_rm_id = models.PositiveIntegerField()
    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, related_name="rentmanager_contact", db_constraint=False
    )
    missing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint("prop", "rm_id", name="rm_contact_once")]

    def __str__(self) -> str:
        return f"contact {self.rm_id}"


class SyncRun(models.Model):
    """One sync of one connection: when, how it ended, and counts per kind and outcome."""

    scope_root = "installer"
    scope_path = "connection__installer"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(_("Started by"), max_length=64, default="schedule")
    started_at = models.DateTimeField(_("Start"), auto_now_add=True)
    finished_at = models.DateTimeField(_("End"), null=True, blank=True)
    status = models.CharField(
        _("Status"), max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    message = models.TextField(_("Message"), blank=True)
    # {"unit": {"created": 3, ...}, "tenant": {...}, "property": {...}}: the run's own (properties
    # Rent Manager no longer lists) while it goes on, every part's added when it ends.
    counts = models.JSONField(default=dict, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["connection", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.connection.installer} {self.started_at:%Y-%m-%d %H:%M}"

    def count(self, kind: str, outcome: str) -> int:
        return self.counts.get(kind, {}).get(outcome, 0)

    def table(self) -> list[tuple[str, list[int]]]:
        return [(Kind(k).label, [self.count(k, o) for o in Outcome.values]) for k in Kind.values]


class PropertyRun(models.Model):
    """One property's part of a run, worked by a task of its own (several properties are synced at
    once, each in one transaction). `finished_at` is set in that transaction: a task delivered
    twice finds its part finished and does nothing; the part that finishes last ends the run."""

    scope_root = "installer"
    scope_path = "run__connection__installer"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="parts")
    prop = models.ForeignKey(SyncedProperty, on_delete=models.CASCADE, related_name="runs")
    # The property as /Properties listed it when the run started (name, addresses).
    listing = models.JSONField(default=dict)
    # When a worker took the part's task (a queued part has none), and when it was written.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    objects = ScopedManager()

    class Meta:
        db_table = "rentmanager_syncrun_property"  # with the sync log's tables
        ordering = ["pk"]
        constraints = [models.UniqueConstraint("run", "prop", name="rm_property_once_per_run")]

    def __str__(self) -> str:
        return f"{self.prop} in run {self.run_id}"


class SyncProblem(models.Model):
    scope_root = "installer"
    scope_path = "run__connection__installer"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="problems")
    property_rm_id = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    rm_id = models.CharField(_("Rent Manager id"), max_length=32, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.FAILED)
    reason = models.TextField(_("Reason"))

    objects = ScopedManager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.rm_id}: {self.reason}"
