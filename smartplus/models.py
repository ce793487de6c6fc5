"""Abstract bases for tenant data, and the audit log every change is written to."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedManager


class TimeStampedModel(models.Model):
    created = models.DateTimeField(_("Created Time"), auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(models.Model):
    """Rows whose changes are written to the audit log (see smartplus.audit).

    `from_db` keeps the loaded values so an update records only what really changed.
    """

    audit_exclude: tuple[str, ...] = ()
    # The fields `str()` and `audit_installer_id` read, if a model declares them: `audit.update`
    # then loads only those and the changed ones (None: whole rows).
    audit_repr_fields: tuple[str, ...] | None = None

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_snapshot = dict(zip(field_names, values, strict=True))
        return instance

    def audit_installer_id(self) -> int | None:
        """The installer (tenant) whose audit log shows changes to this row."""
        raise NotImplementedError

    @classmethod
    def audit_installer_ids(cls, instances) -> list[int | None]:
        """`audit_installer_id` of many rows, for bulk audit entries (override to batch lookups)."""
        return [instance.audit_installer_id() for instance in instances]


class ScopedModel(TimeStampedModel, AuditedModel):
    """Tenant-owned data. Subclasses set `scope_root` and `scope_path` (see smartplus.scoping)."""

    scope_root = "community"
    scope_path = "community"

    objects = ScopedManager()

    class Meta:
        abstract = True

    def audit_installer_id(self) -> int | None:
        community = self.community if self.scope_path == "community" else None
        return community.installer_id if community is not None else None

    @classmethod
    def audit_installer_ids(cls, instances) -> list[int | None]:
        if cls.scope_path != "community":
            return super().audit_installer_ids(instances)
        # One query for all the rows' communities, not one per row.
        known = {}
        for instance in instances:
            cached = instance._state.fields_cache.get("community")
            if cached is not None:
                known[cached.pk] = cached.installer_id
        missing = {i.community_id for i in instances} - known.keys() - {None}
        if missing:
            community_model = cls._meta.get_field("community").related_model
            known.update(
                community_model._base_manager.filter(pk__in=missing).values_list("pk", "installer_id")
            )
        return [known.get(instance.community_id) for instance in instances]


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    RESET = "reset", _("Reset")
    IMPERSONATION_START = "impersonation_start", _("Started acting as")
    IMPERSONATION_END = "impersonation_end", _("Stopped acting as")


class AuditLog(models.Model):
    """One change: who really did it (`user`), as whom (`actor`), to what, and which fields."""

    scope_root = "installer"
    scope_path = "installer"

    time = models.DateTimeField(_("Time"), auto_now_add=True, db_index=True)
    # The references carry no database constraint: Django's on_delete still cascades and nulls
    # them, but an import or a Rent Manager sync writes tens of thousands of entries in one
    # transaction, and four foreign-key checks per entry at COMMIT cost as much as the entries
    # themselves. The installer is looked up through the (installer, time) index.
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="audit_entries",
        db_constraint=False,
        db_index=False,
    )
    # Indexed where set only (deleting a user nulls its entries): jobs and syncs write none.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    user_name = models.CharField(_("User"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    actor_name = models.CharField(_("Acting as"), max_length=150, blank=True)
    action = models.CharField(max_length=24, choices=AuditAction.choices)
    object_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("Object"), max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    # One request, task or job: every entry one import or one delete wrote (smartplus.audit).
    # Empty on entries older than change sets.
    change_set = models.UUIDField(_("Change set"), null=True, blank=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [
            models.Index(fields=["installer", "-time"]),
            models.Index(fields=["user"], condition=models.Q(user__isnull=False), name="auditlog_user_set"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"


class NumberSequence(models.Model):
    """A named counter for numbers that must be unique and readable (Family SIP Numbers, ...).

    `allocate` locks the row, so concurrent transactions never hand out the same number and a
    bulk import takes a whole block in one round trip.
    """

    name = models.CharField(max_length=32, primary_key=True)
    next_value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}: {self.next_value}"

    @classmethod
    def allocate(cls, name: str, *, start: int, count: int = 1) -> range:
        cls.objects.get_or_create(name=name, defaults={"next_value": start})
        row = cls.objects.select_for_update().get(name=name)
        first = row.next_value
        row.next_value = first + count
        row.save(update_fields=["next_value"])
        return range(first, first + count)


class ImportStatus(models.TextChoices):
    """Where an uploaded template stands: checked (preview), then imported on confirmation."""

    CHECKING = "checking", _("Checking the file")
    READY = "ready", _("Ready to import")
    REJECTED = "rejected", _("Errors to correct")
    QUEUED = "queued", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(TimeStampedModel):
    """An uploaded template and what became of it. Concrete per app (MAC library, community
    residents and devices) so each is scoped like the data it writes.

    The file is kept in the database, so the web process and any worker read the same bytes
    without shared storage; it is emptied once the import is done. `importer` names the class
    that reads, checks and writes this kind of file (smartplus.importing).
    """

    importer = ""
    IN_PROGRESS = (ImportStatus.CHECKING, ImportStatus.QUEUED)

    installer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Who uploaded, and as whom: the worker writes the audit log in their name.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(_("File"), max_length=255)
    file_size = models.PositiveIntegerField(default=0)
    content = models.BinaryField(default=b"", editable=False)
    status = models.CharField(
        _("Status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKING
    )
    total_rows = models.PositiveIntegerField(_("Rows"), default=0)
    # The preview: [[kind, {"create": n, "update": n, "items": [[row, action, text], ...]}], ...].
    summary = models.JSONField(default=list, blank=True)
    # [[row, column, reason], ...] in row order.
    errors = models.JSONField(default=list, blank=True)
    # [[what, count], ...] written, once done.
    result = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(_("Finished"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        abstract = True
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"Import of {self.file_name}"

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def error_count(self) -> int:
        return len(self.errors)
