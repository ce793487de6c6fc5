"""Firmware module (the catalogue: list and detail) and Upgrade module (list, Add, Edit, Delete,
detail with every device's operation)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic

from . import selectors, services
from .choices import OperationStatus, UpgradeStatus
from .filters import FirmwareFilterSet, UpgradeFilterSet
from .forms import DEVICE_ROWS, UpgradeForm
from .models import Firmware, FirmwareUpgrade, UpgradeOperation
from .tables import FirmwareTable, UpgradeOperationTable, UpgradeTable, upgrade_badge

FIRMWARE_TITLE = _("Firmware")
UPGRADE_TITLE = _("Upgrade")


def _when(value) -> str:
    return dateformat.format(timezone.localtime(value), "Y-m-d H:i")


# --- Firmware ----------------------------------------------------------------------------------


class FirmwareMixin:
    model = Firmware

    def get_queryset(self):
        return selectors.catalogue(actor=self.request.actor)


class FirmwareListView(FirmwareMixin, generic.ObjectListView):
    table_class = FirmwareTable
    filterset_class = FirmwareFilterSet
    template_name = "firmware/firmware_list.html"
    title = FIRMWARE_TITLE
    export_name = "Firmware"  # the file and sheet keep the English name in every UI language

    def get_pagination(self, filterset) -> dict:
        return {"paginator_class": FastPaginator}


class FirmwareDetailView(FirmwareMixin, generic.ObjectDetailView):
    template_name = "firmware/firmware.html"

    @property
    def title(self):
        if getattr(self, "object", None):
            return gettext("Firmware %(version)s") % {"version": self.object.version}
        return FIRMWARE_TITLE

    def get_breadcrumbs(self):
        return [(FIRMWARE_TITLE, reverse("firmware:firmware_list")), (self.object.version, None)]

    def get_extra_context(self) -> dict:
        # The file itself is served to devices only, through signed links (firmware.links); a
        # published URL is the super manager's business.
        return {"show_url": roles.allows(self.request.actor, Firmware, "view_url")}


# --- Upgrade: list -------------------------------------------------------------------------------


def _upgrade_list_url(request) -> str:
    return generic.safe_next(request, reverse("firmware:upgrade_list"))


class UpgradeListView(generic.ObjectListView):
    """All / Pending / Processing / Executed tabs, Refresh, Add; one page costs the same queries
    whatever the number of upgrades."""

    model = FirmwareUpgrade
    table_class = UpgradeTable
    filterset_class = UpgradeFilterSet
    template_name = "firmware/upgrade_list.html"
    add_url_name = "firmware:upgrade_add"
    title = UPGRADE_TITLE
    export_name = "Upgrade"

    def get_table_queryset(self):
        return self.get_queryset().select_related("firmware", "installer")

    def get_table(self, queryset):
        show_installer = roles.allows(self.request.actor, FirmwareUpgrade, "view_installer")
        return self.table_class(queryset, exclude=() if show_installer else ("installer",))

    def tab_counts(self) -> dict[str, int]:
        """Every tab's count in one query; the paginator takes the current tab's from it."""
        if not hasattr(self, "_tab_counts"):
            self._tab_counts = self.get_queryset().aggregate(
                all=Count("pk"), **{s.value: Count("pk", filter=Q(status=s.value)) for s in UpgradeStatus}
            )
        return self._tab_counts

    def current_status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in UpgradeStatus.values else ""

    def get_pagination(self, filterset) -> dict:
        return {"paginator_class": FastPaginator, "count": self.tab_counts()[self.current_status() or "all"]}

    def get_extra_context(self) -> dict:
        counts = self.tab_counts()
        tabs = [("", _("All"), counts["all"])] + [(s.value, s.label, counts[s.value]) for s in UpgradeStatus]
        return {"tabs": tabs, "current_status": self.current_status()}


# --- Upgrade: Add and Edit -----------------------------------------------------------------------


class UpgradeEditView(generic.ObjectEditView):
    """Add Upgrade, or Edit one while it is Pending. A full page rather than the modal: the device
    table can hold every device of a model across the installer's communities."""

    model = FirmwareUpgrade
    form_class = UpgradeForm
    template_name = "firmware/upgrade_edit.html"
    modal_template_name = "firmware/upgrade_edit.html"

    @property
    def title(self):
        return _("Edit Upgrade") if self.action == roles.CHANGE else _("Add Upgrade")

    def get_queryset(self):
        return super().get_queryset().select_related("firmware")

    def get_breadcrumbs(self):
        return [(UPGRADE_TITLE, reverse("firmware:upgrade_list")), (self.title, None)]

    def chosen_model(self) -> str:
        """The model whose firmware and devices the form offers: as posted, as asked in the query
        string (changing the Model select reloads the page with ?model=), else the upgrade's."""
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        default = self.object.model if self.object is not None else ""
        return source.get("model", default)

    def search(self) -> str:
        """The device search the page shows (a GET reload), posted back with the form."""
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return source.get("q", "")

    def get_form(self, data=None):
        return self.form_class(
            data=data,
            actor=self.request.actor,
            instance=self.object,
            model=self.chosen_model(),
            search=self.search(),
        )

    def render_form(self, form, status=200):
        self.form = form
        return super().render_form(form, status)

    def get_extra_context(self) -> dict:
        form = self.form
        devices, matching = [], 0
        if form.chosen_model:
            found = selectors.upgrade_devices(
                actor=self.request.actor, model=form.chosen_model, search=form.search
            )
            matching = found.count()
            if self.object is not None:
                # An edit lists the upgrade's own devices first, so they are the ones shown ticked.
                mine = UpgradeOperation.objects.filter(upgrade=self.object, device=OuterRef("pk"))
                found = found.alias(mine=Exists(mine)).order_by("-mine", "community__name", "name", "pk")
            devices = list(found[:DEVICE_ROWS])
        return {
            "devices": devices,
            "matching_count": matching,
            "selected_devices": form.selected_device_ids(),
            "selection": form.selection_mode(),
            "time_zone": timezone.get_current_timezone_name(),
            "cancel_url": _upgrade_list_url(self.request),
        }

    def locked(self):
        """An upgrade that has started cannot be edited: a message instead of the form."""
        return self.object is not None and not self.object.is_editable

    def get(self, request, *args, **kwargs):
        self.object = self.get_instance()
        if self.locked():
            return self.render_locked()
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        self.object = self.get_instance()
        if self.locked():
            messages.error(request, self.locked_message())
            return redirect("firmware:upgrade_detail", self.object.pk)
        return super().post(request, *args, **kwargs)

    def locked_message(self) -> str:
        return gettext(
            "This upgrade is %(status)s: only a Pending upgrade can be "
            "edited. Delete it to cancel what has not started yet."
        ) % {"status": self.object.get_status_display()}

    def render_locked(self):
        return self.render(
            "firmware/upgrade_locked.html",
            {"object": self.object, "message": self.locked_message(), "badge": upgrade_badge(self.object)},
        )

    def save(self, form):
        actor = self.request.actor
        if self.object is None:
            return services.upgrade_create(actor=actor, **form.service_kwargs())
        return services.upgrade_update(actor=actor, upgrade=self.object, **form.service_kwargs())

    success_message = _("Upgrade to {object.firmware.version} saved. Click Refresh to follow its status.")

    def get_success_url(self, obj) -> str:
        return _upgrade_list_url(self.request)


# --- Upgrade: Delete -----------------------------------------------------------------------------


class UpgradeDeleteView(generic.ObjectDeleteView):
    """Delete an upgrade record; the confirmation says what it cancels."""

    model = FirmwareUpgrade
    title = _("Delete Upgrade")
    template_name = "firmware/upgrade_delete.html"
    modal_template_name = "firmware/upgrade_delete_modal.html"

    def get_queryset(self):
        return super().get_queryset().select_related("firmware")

    def get_breadcrumbs(self):
        return [(UPGRADE_TITLE, reverse("firmware:upgrade_list")), (self.title, None)]

    def deletion_summary(self, obj) -> list[str]:
        counts = services.upgrade_counts(obj)
        total = sum(counts.values())
        target = gettext("%(version)s of %(total)s %(model)s device(s)") % {
            "version": obj.firmware.version,
            "total": total,
            "model": obj.model,
        }
        if obj.status == UpgradeStatus.PENDING:
            return [
                gettext("The upgrade to %(target)s, due %(when)s, is cancelled: no device is upgraded.")
                % {"target": target, "when": _when(obj.scheduled_at)}
            ]
        if obj.status == UpgradeStatus.EXECUTED:
            return [
                gettext(
                    "The upgrade to %(target)s has finished: only the record is deleted; "
                    "the devices keep the firmware they run."
                )
                % {"target": target}
            ]
        lines = []
        waiting = counts.get(OperationStatus.PENDING, 0)
        running = counts.get(OperationStatus.IN_PROGRESS, 0)
        done = total - waiting - running
        if waiting:
            lines.append(gettext("%(n)s device(s) not started yet are not upgraded.") % {"n": waiting})
        if running:
            lines.append(
                gettext(
                    "%(n)s device(s) in progress: an upgrade command a device has not collected yet is "
                    "cancelled; a device that has already collected it finishes the upgrade."
                )
                % {"n": running}
            )
        if done:
            lines.append(
                gettext("%(n)s device(s) that have finished keep the firmware they run.") % {"n": done}
            )
        return [gettext("The upgrade to %(target)s is processing.") % {"target": target}, *lines]

    def delete(self, obj) -> None:
        services.upgrade_delete(actor=self.request.actor, upgrade=obj)

    def get_success_url(self) -> str:
        return _upgrade_list_url(self.request)


# --- Upgrade: detail -----------------------------------------------------------------------------


class UpgradeDetailView(generic.TablesMixin, generic.ObjectDetailView):
    """The upgrade's summary, its counts per status, and every device's operation (paginated)."""

    model = FirmwareUpgrade
    template_name = "firmware/upgrade.html"
    title = _("Upgrade Detail")

    def get_queryset(self):
        return super().get_queryset().select_related("firmware", "created_by", "installer")

    def get_breadcrumbs(self):
        return [(UPGRADE_TITLE, reverse("firmware:upgrade_list")), (self.title, None)]

    def get_extra_context(self) -> dict:
        upgrade, actor = self.object, self.request.actor
        counts = services.upgrade_counts(upgrade)
        operations = UpgradeOperation.objects.for_actor(actor).filter(upgrade=upgrade)
        table = UpgradeOperationTable(operations)
        # The counts add up to the number of operations: no COUNT(*) for the paginator.
        self.configure(table, paginator_class=FastPaginator, count=sum(counts.values()))
        return {
            "table": table,
            "badge": upgrade_badge(upgrade),
            "counts": [(s.value, s.label, counts.get(s.value, 0)) for s in OperationStatus],
            "total": sum(counts.values()),
            "can_change": upgrade.is_editable and roles.allows(actor, FirmwareUpgrade, roles.CHANGE),
            "can_delete": roles.allows(actor, FirmwareUpgrade, roles.DELETE),
            "show_installer": roles.allows(actor, FirmwareUpgrade, "view_installer"),
        }
