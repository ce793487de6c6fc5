"""Account views: sub-accounts, property managers, the distributor's installers, the account menu."""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from smartplus import roles
from smartplus.views import generic

from . import services
from .forms import (
    AccountSettingForm,
    BillingInformationForm,
    CustomerServiceForm,
    InstallerForm,
    NewPasswordForm,
    OriginalPasswordForm,
    PropertyManagerForm,
    SubAccountForm,
    TimeZoneForm,
)
from .middleware import set_language_cookie
from .models import (
    BillingInformation,
    CustomerService,
    Installer,
    PropertyManager,
    PropertyManagerAssignment,
    SubAccount,
)
from .tables import InstallerTable


def _announce_password(request, user, password: str | None) -> None:
    if password:
        messages.warning(
            request,
            gettext(
                "%(username)s has no email: hand over this one-time password "
                "and ask them to change it: %(password)s"
            )
            % {"username": user.username, "password": password},
        )
    else:
        messages.info(
            request,
            gettext("An email with a link to set the password was sent to %(email)s.")
            % {"email": user.email},
        )


def _dashboard(request) -> str:
    return generic.safe_next(request, reverse("communities:dashboard"))


# --- Sub-accounts ---


class SubAccountEditView(generic.ObjectEditView):
    model = SubAccount
    form_class = SubAccountForm
    success_message = _("Sub-account “{object}” saved.")

    @property
    def title(self):
        return _("Edit Sub-account") if self.action == roles.CHANGE else _("New Sub-account")

    def save(self, form):
        if self.object is None:
            sub, password = services.subaccount_create(actor=self.request.actor, **form.cleaned_data)
            _announce_password(self.request, sub, password)
            return sub
        return services.subaccount_update(
            actor=self.request.actor, subaccount=self.object, **form.cleaned_data
        )

    def get_success_url(self, obj):
        return _dashboard(self.request)


class UserDeleteView(generic.ObjectDeleteView):
    def delete(self, obj):
        services.user_delete(actor=self.request.actor, user=obj)

    def get_success_url(self):
        return _dashboard(self.request)


class SubAccountDeleteView(UserDeleteView):
    model = SubAccount
    title = _("Delete Sub-account")

    def deletion_summary(self, obj):
        return [gettext("the sub-account “%(name)s”; it can no longer log in") % {"name": obj.username}]


class ResetPasswordView(generic.ObjectActionView):
    action = "reset_password"

    def perform(self, obj):
        password = services.user_reset_password(actor=self.request.actor, user=obj)
        _announce_password(self.request, obj, password)


class SubAccountResetPasswordView(ResetPasswordView):
    model = SubAccount


# --- Property managers ---


class PropertyManagerEditView(generic.ObjectEditView):
    model = PropertyManager
    form_class = PropertyManagerForm
    success_message = _("Property manager “{object}” saved.")

    @property
    def title(self):
        return _("Edit Property Manager") if self.action == roles.CHANGE else _("New Property Manager")

    def save(self, form):
        if self.object is None:
            pm = services.property_manager_create(actor=self.request.actor, **form.cleaned_data)
            messages.info(
                self.request,
                gettext("An email with a link to set the password was sent to %(email)s.")
                % {"email": pm.email},
            )
            return pm
        return services.property_manager_update(
            actor=self.request.actor, property_manager=self.object, **form.cleaned_data
        )

    def get_success_url(self, obj):
        return _dashboard(self.request)


class PropertyManagerDeleteView(UserDeleteView):
    model = PropertyManager
    title = _("Delete Property Manager")

    def deletion_summary(self, obj):
        communities = [a.community.name for a in obj.pm_assignments.select_related("community")]
        rows = [
            gettext("the property manager account “%(name)s” (%(email)s)")
            % {"name": obj.display_name, "email": obj.email}
        ]
        if communities:
            rows.append(
                gettext("its assignment to: %(communities)s") % {"communities": ", ".join(communities)}
            )
        return rows


class PropertyManagerResetPasswordView(ResetPasswordView):
    model = PropertyManager


class AppPasswordResetView(generic.ObjectActionView):
    model = PropertyManagerAssignment
    action = "reset_app_password"

    def perform(self, obj):
        services.pm_app_password_reset(actor=self.request.actor, assignment=obj)
        messages.info(
            self.request,
            gettext("A new SmartPlus App password link was sent to %(email)s.")
            % {"email": obj.property_manager.email},
        )


# --- Distributor: installers ---


class InstallerListView(generic.ObjectListView):
    model = Installer
    table_class = InstallerTable
    template_name = "accounts/installer_list.html"
    add_url_name = "accounts:installer_add"
    title = _("Installers")

    def get_table_queryset(self):
        qs = self.get_queryset()
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(Q(username__icontains=q) | Q(email__icontains=q) | Q(first_name__icontains=q))
        return qs.order_by("username")


class InstallerEditView(generic.ObjectEditView):
    model = Installer
    form_class = InstallerForm
    success_message = _("Installer “{object}” saved.")

    @property
    def title(self):
        return _("Edit Installer") if self.action == roles.CHANGE else _("New Installer")

    def save(self, form):
        data = dict(form.cleaned_data)
        if self.object is None:
            inst = services.installer_create(actor=self.request.actor, **data)
            messages.info(
                self.request,
                gettext("An email with a link to set the password was sent to %(email)s.")
                % {"email": inst.email},
            )
            return inst
        data.pop("username", None)
        return services.installer_update(actor=self.request.actor, installer=self.object, **data)

    def get_success_url(self, obj):
        return reverse("accounts:installer_list")


class InstallerResetPasswordView(ResetPasswordView):
    model = Installer


# --- Account menu ---


class AccountMenuView(generic.ObjectEditView):
    """A dialog of the account menu editing the actor's own settings (one object, no pk)."""

    def get_action(self):
        return roles.CHANGE

    def get_success_url(self, obj):
        return generic.safe_next(self.request, reverse("home"))


class TimeZoneView(AccountMenuView):
    form_class = TimeZoneForm
    title = _("Time Zone")
    success_message = _("Time zone saved.")

    def get_instance(self):
        return self.request.actor

    def get_form(self, data=None):
        return self.form_class(
            data=data, actor=self.request.actor, initial={"time_zone": self.request.actor.time_zone}
        )

    def save(self, form):
        return services.user_time_zone_set(actor=self.request.actor, **form.cleaned_data)

    def post(self, request, *args, **kwargs):
        # The actor is a user, not a scoped row: skip the generic re-check.
        self.object = request.actor
        form = self.get_form(data=request.POST)
        if form.is_valid():
            self.save(form)
            messages.success(request, self.success_message)
            return generic.redirect_after(request, self.get_success_url(None))
        return self.render_form(form)


class InstallerOwnedView(AccountMenuView):
    def get_instance(self):
        return self.get_queryset().first()

    def get_form(self, data=None):
        return self.form_class(data=data, actor=self.request.actor, instance=self.object or self.model())


class BillingInformationView(InstallerOwnedView):
    model = BillingInformation
    form_class = BillingInformationForm
    title = _("Billing Information")
    success_message = _("Billing information saved.")

    def save(self, form):
        return services.billing_information_save(actor=self.request.actor, **form.cleaned_data)


class CustomerServiceView(InstallerOwnedView):
    model = CustomerService
    form_class = CustomerServiceForm
    title = _("Customer Service")
    success_message = _("Customer service contact saved.")

    def save(self, form):
        return services.customer_service_save(actor=self.request.actor, **form.cleaned_data)


class AccountSettingView(generic.PortalView):
    model = "accounts.accountaccess"
    action = roles.CHANGE
    title = _("Account Setting")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and (
            request.real_user.pk != request.actor.pk or not request.actor.account_access_enabled
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _render(self, form):
        template = "generic/object_edit_modal.html" if self.request.htmx else "generic/object_edit.html"
        return self.render(template, {"form": form, "form_action": self.request.get_full_path()})

    def get(self, request, *args, **kwargs):
        return self._render(
            AccountSettingForm(initial={"permission_granted": request.actor.permission_granted})
        )

    def post(self, request, *args, **kwargs):
        form = AccountSettingForm(request.POST)
        if form.is_valid():
            services.account_access_set(
                real_user=request.real_user,
                actor=request.actor,
                granted=form.cleaned_data["permission_granted"],
            )
            messages.success(request, _("Account setting saved."))
            return generic.redirect_after(request, reverse("home"))
        return self._render(form)


class PasswordChangeView(generic.PortalView):
    """Change Password in three steps: original password -> new password -> success."""

    title = _("Change Password")
    template_name = "accounts/password_change.html"
    modal_template_name = "accounts/password_change_modal.html"
    session_key = "password_change_verified"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.real_user.pk != request.actor.pk:
            raise PermissionDenied  # never while acting as someone else
        return super().dispatch(request, *args, **kwargs)

    def _render(self, step: int, form=None):
        template = self.modal_template_name if self.request.htmx else self.template_name
        return self.render(template, {"step": step, "form": form, "form_action": self.request.path})

    def get(self, request, *args, **kwargs):
        request.session.pop(self.session_key, None)
        return self._render(1, OriginalPasswordForm())

    def post(self, request, *args, **kwargs):
        step = request.POST.get("step")
        if step == "2" and request.session.get(self.session_key) == request.actor.pk:
            form = NewPasswordForm(request.POST)
            if form.is_valid():
                try:
                    services.user_password_change(
                        real_user=request.real_user,
                        actor=request.actor,
                        new_password=form.cleaned_data["new_password1"],
                    )
                except ValidationError as exc:
                    form.add_error("new_password1", exc)
                else:
                    update_session_auth_hash(request, request.actor)
                    request.session.pop(self.session_key, None)
                    request.session.pop("password_reminder_due", None)
                    return self._render(3)
            return self._render(2, form)
        form = OriginalPasswordForm(request.POST)
        if form.is_valid():
            if not ratelimit.consume(request, action="change_password", user=request.actor):
                form.add_error(None, _("Too many attempts. Try again in a minute."))
                return self._render(1, form)
            try:
                services.user_password_check(
                    real_user=request.real_user,
                    actor=request.actor,
                    password=form.cleaned_data["original_password"],
                )
            except ValidationError as exc:
                generic.apply_errors(form, exc)
            else:
                request.session[self.session_key] = request.actor.pk
                return self._render(2, NewPasswordForm())
        return self._render(1, form)


class PasswordReminderDismissView(generic.PortalView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        request.session.pop("password_reminder_due", None)
        if request.htmx:
            return HttpResponse("")
        return generic.redirect_after(request, generic.safe_next(request, reverse("home")))


@require_POST
def ui_language_view(request):
    """The language menu (top bar, login and password pages): POST `language` (a code of
    settings.LANGUAGES, or "" to follow the browser) and `next`. Saved on the signed-in person,
    put in the language cookie, then back to `next` when it is a URL of this site."""
    code = request.POST.get("language", "")
    if code and code not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    person = getattr(request, "real_user", None) or request.user
    if person.is_authenticated:
        services.ui_language_set(actor=person, code=code)
    nxt = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        nxt = reverse("home")
    response = HttpResponseRedirect(nxt)
    set_language_cookie(response, code)
    if code:
        translation.activate(code)
    return response
