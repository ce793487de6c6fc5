"""Rent Manager pages: the super manager links installers; the installer sees its sync log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from smartplus import crypto, roles
from smartplus.views import generic

from . import services
from .choices import Outcome, RunStatus
from .forms import ConnectionForm
from .integrations.client import RentManagerError
from .locks import is_locked
from .models import Connection, SyncRun

RUNS_SHOWN = 20
PENDING_PASSWORD = "rentmanager_tested_password"


class ConnectionListView(generic.PortalView):
    model = Connection
    title = _("Rent Manager")

    def get(self, request):
        # Each connection's latest run only (a correlated subquery), not every run it ever had.
        latest = SyncRun.objects.filter(
            pk=Subquery(
                SyncRun.objects.filter(connection=OuterRef("connection"))
                .order_by("-started_at", "-pk")
                .values("pk")[:1]
            )
        )
        connections = (
            self.get_queryset()
            .select_related("installer")
            .prefetch_related("properties", Prefetch("runs", queryset=latest, to_attr="latest_runs"))
        )
        rows = [(c, c.latest_runs[0] if c.latest_runs else None) for c in connections]
        may_add = roles.allows(request.actor, Connection, roles.ADD)
        return self.render("rentmanager/connection_list.html", {"rows": rows, "may_add": may_add})


class ConnectionEditView(generic.PortalView):
    """Add (no pk) or change a link. "Test connection" signs in and lists the properties to pick."""

    model = Connection
    action = roles.ADD

    def get_action(self) -> str:
        return roles.CHANGE if "pk" in self.kwargs else roles.ADD

    def setup_object(self):
        self.object = (
            get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"]) if "pk" in self.kwargs else None
        )
        self.title = _("Edit Rent Manager link") if self.object else _("Link an installer to Rent Manager")

    def get(self, request, pk=None):
        self.setup_object()
        initial, choices = {}, []
        if self.object is not None:
            props = list(self.object.properties.all())
            initial = {
                "installer": self.object.installer_id,
                "base_url": self.object.base_url,
                "username": self.object.username,
                "location_id": self.object.location_id,
                "properties": [str(p.rm_id) for p in props],
            }
            choices = [(str(p.rm_id), p.name) for p in props]
        form = ConnectionForm(
            initial=initial, actor=request.actor, instance=self.object, property_choices=choices
        )
        return self._page(form, tested=False)

    def post(self, request, pk=None):
        self.setup_object()
        form = ConnectionForm(request.POST, actor=request.actor, instance=self.object)
        # The properties' choices come from Rent Manager, asked below with these credentials.
        if not form.is_valid() and set(form.errors) - {"properties"}:
            return self._page(form, tested=False, status=422)
        data = form.cleaned_data
        # The tested password waits in the session (encrypted), never in the page: the form's
        # password field is not rendered back.
        if data["password"]:
            request.session[PENDING_PASSWORD] = crypto.encrypt(data["password"])
        elif request.POST.get("do") == "save" and request.session.get(PENDING_PASSWORD):
            data["password"] = crypto.decrypt(request.session[PENDING_PASSWORD])
        password = data["password"] or (self.object.password() if self.object else "")
        try:
            found = services.connection_check(
                base_url=data["base_url"],
                username=data["username"],
                password=password,
                location_id=data["location_id"],
            )
        except RentManagerError as exc:
            form.add_error(None, _("Test connection failed: %(reason)s") % {"reason": exc})
            return self._page(form, tested=False, status=422)
        choices = [(str(p["PropertyID"]), p.get("Name") or str(p["PropertyID"])) for p in found]
        form = ConnectionForm(
            request.POST, actor=request.actor, instance=self.object, property_choices=choices
        )
        form.is_valid()
        if request.POST.get("do") != "save":
            messages.success(
                request, _("Connection works: Rent Manager lists %(n)d properties.") % {"n": len(found)}
            )
            return self._page(form, tested=True)
        names = dict(choices)
        try:
            connection = services.connection_save(
                actor=request.actor,
                installer=form.cleaned_data["installer"],
                base_url=data["base_url"],
                username=data["username"],
                password=data["password"],
                location_id=data["location_id"],
                properties=[(int(pid), names[pid]) for pid in form.cleaned_data.get("properties", [])],
            )
        except ValidationError as exc:
            generic.apply_errors(form, exc)
            return self._page(form, tested=True, status=422)
        messages.success(
            request, _("%(installer)s is linked to Rent Manager.") % {"installer": connection.installer}
        )
        return HttpResponseRedirect(reverse("rentmanager:connection_detail", args=[connection.pk]))

    def _page(self, form, *, tested: bool, status: int = 200):
        return self.render(
            "rentmanager/connection_edit.html",
            {"form": form, "tested": tested, "object": self.object},
            status=status,
        )

    def get_breadcrumbs(self):
        return [(_("Rent Manager"), reverse("rentmanager:connection_list")), (self.title, None)]


class ConnectionDetailView(generic.ObjectDetailView):
    model = Connection
    template_name = "rentmanager/connection_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("installer")

    def get_extra_context(self) -> dict:
        finished = Q(parts__finished_at__isnull=False)
        runs = list(
            self.object.runs.annotate(parts_total=Count("parts"), parts_done=Count("parts", filter=finished))
            .prefetch_related("problems")
            .order_by("-started_at", "-pk")[:RUNS_SHOWN]
        )
        running = is_locked(self.object.pk) or any(
            r.status in (RunStatus.PENDING, RunStatus.IN_PROGRESS) for r in runs
        )
        self.title = _("Rent Manager: %(installer)s") % {"installer": self.object.installer}
        return {
            "title": self.title,
            "runs": runs,
            "running": running,
            "outcomes": Outcome.choices,
            "properties": self.object.properties.select_related("community"),
            "may_sync": roles.allows(self.request.actor, Connection, "sync"),
            "may_edit": roles.allows(self.request.actor, Connection, roles.CHANGE),
        }

    def get_breadcrumbs(self):
        return [
            (_("Rent Manager"), reverse("rentmanager:connection_list")),
            (str(self.object.installer), None),
        ]


class ConnectionSyncView(generic.ObjectActionView):
    model = Connection
    action = "sync"

    def post(self, request, *args, **kwargs):
        connection = self.get_object()
        try:
            services.sync_now(actor=request.actor, connection=connection)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The sync has started; this page shows its progress."))
        return generic.redirect_after(request, reverse("rentmanager:connection_detail", args=[connection.pk]))
