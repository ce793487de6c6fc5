"""Writes and rules for portal accounts: sub-accounts, property managers, installers, account menu."""

from __future__ import annotations

import datetime
import secrets
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import authz, roles
from smartplus.scoping import tenant_installer_id

from .choices import Role
from .models import (
    BillingInformation,
    CustomerService,
    Installer,
    PropertyManager,
    PropertyManagerAssignment,
    SubAccount,
    User,
)


def _own_tenant_id(actor) -> int:
    """The installer whose whole tenant the actor works on: where its new accounts go."""
    tenant = tenant_installer_id(actor)
    if tenant is None:
        raise PermissionDenied
    return tenant


def _check_unique(
    *, username: str | None = None, email: str | None = None, exclude_pk=None, username_is_email=False
) -> None:
    """`username_is_email`: the account name is the typed email (property managers), so a clash
    is said once, at the email field."""
    errors = {}
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if email and others.filter(email__iexact=email).exists():
        errors["email"] = gettext("This email is already used by another account.")
    if username and others.filter(username__iexact=username).exists():
        if username_is_email:
            errors.setdefault("email", gettext("This email is already the account name of another account."))
        else:
            errors["username"] = gettext("This account name is already taken.")
    if errors:
        raise ValidationError(errors)


def _send_credentials(user: User) -> None:
    from .tasks import send_account_email as send_account_email_task

    transaction.on_commit(partial(send_account_email_task.delay, user.pk))


def account_email_deliver(*, user_id: int) -> bool:
    """Send the account's set-password email once per issue of credentials (what the worker runs).

    The conditional UPDATE claims the email (`account_email_sent_at` empty) and locks the row, so
    a job delivered twice, even at the same time, sends one email. The email is sent before the
    claim commits: an SMTP failure undoes the claim and the retry sends.
    """
    from .emails import account_email_send

    with transaction.atomic():
        claimed = (
            User.objects.filter(pk=user_id, account_email_sent_at__isnull=True)
            .exclude(email="")
            .update(account_email_sent_at=timezone.now())
        )
        if not claimed:
            return False
        user = User.objects.get(pk=user_id)
        account_email_send(user=user)
        announce_account_email(user)
    return True


def announce_account_email(user, error: str = "") -> None:
    """Tell the notification log (inside the claim's transaction when sent)."""
    from smartplus.scoping import member_installer_id
    from smartplus.signals import account_email_sent

    account_email_sent.send(
        sender=User,
        recipient=user.email,
        language=user.language or "en",
        subject="SmartPlus portal account",
        community_id=None,
        installer_id=member_installer_id(user),
        error=error,
    )


def _temporary_password() -> str:
    return secrets.token_urlsafe(9)


def _issue_credentials(user: User) -> str | None:
    """Email a set-password link when the user has an email; otherwise return a one-time password
    for the installer to hand over (sub-accounts may have no email)."""
    if user.email:
        user.set_unusable_password()
        user.account_email_sent_at = None  # these credentials' email is due
        user.save(update_fields=["password", "account_email_sent_at"])
        _send_credentials(user)
        return None
    password = _temporary_password()
    user.set_password(password)
    user.password_changed_at = None
    user.save(update_fields=["password", "password_changed_at"])
    return password


def _new_account(model, *, role: str, username_is_email: bool = False, **fields) -> User:
    """Create a portal account that has no password yet (credentials are issued after)."""
    _check_unique(username=fields["username"], email=fields.get("email"), username_is_email=username_is_email)
    user = model(role=role, **fields)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


# Which proxy (and so which row of roles.py) governs an account of each role.
_ACCOUNT_MODELS = {
    Role.SUB_INSTALLER: SubAccount,
    Role.PROPERTY_MANAGER: PropertyManager,
    Role.INSTALLER: Installer,
}


# --- Sub-accounts ---


@transaction.atomic
def subaccount_create(
    *, actor, username: str, email: str = "", phone: str = ""
) -> tuple[SubAccount, str | None]:
    authz.require_role(actor, roles.ADD, SubAccount)  # into the actor's own tenant
    sub = _new_account(
        SubAccount,
        role=Role.SUB_INSTALLER,
        username=username,
        email=email,
        phone=phone,
        installer_id=_own_tenant_id(actor),
        time_zone=actor.time_zone,
    )
    return sub, _issue_credentials(sub)


@transaction.atomic
def subaccount_update(
    *, actor, subaccount: SubAccount, username: str, email: str = "", phone: str = ""
) -> SubAccount:
    authz.authorize(actor, roles.CHANGE, subaccount, model=SubAccount)
    _check_unique(username=username, email=email, exclude_pk=subaccount.pk)
    subaccount.username, subaccount.email, subaccount.phone = username, email, phone
    subaccount.full_clean(exclude=["password"])
    subaccount.save()
    return subaccount


@transaction.atomic
def user_delete(*, actor, user: User) -> None:
    model = _ACCOUNT_MODELS.get(user.role)
    if model is None or model is Installer:
        raise PermissionDenied
    authz.authorize(actor, roles.DELETE, user, model=model)
    user.delete()


def user_reset_password(*, actor, user: User) -> str | None:
    model = _ACCOUNT_MODELS.get(user.role)
    if model is None:
        raise PermissionDenied
    authz.authorize(actor, "reset_password", user, model=model)
    with transaction.atomic():
        return _issue_credentials(user)


# --- Property managers ---


@transaction.atomic
def property_manager_create(
    *, actor, first_name: str, last_name: str, email: str, language: str, monthly_password_reminder: bool
) -> PropertyManager:
    authz.require_role(actor, roles.ADD, PropertyManager)  # into the actor's own tenant
    pm = _new_account(
        PropertyManager,
        role=Role.PROPERTY_MANAGER,
        # The PM signs in with the email: the account name is the email, never typed apart.
        username=email,
        username_is_email=True,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
        monthly_password_reminder=monthly_password_reminder,
        installer_id=_own_tenant_id(actor),
        time_zone=actor.time_zone,
    )
    _issue_credentials(pm)
    return pm


@transaction.atomic
def property_manager_update(
    *,
    actor,
    property_manager: PropertyManager,
    first_name: str,
    last_name: str,
    language: str,
    monthly_password_reminder: bool,
) -> PropertyManager:
    authz.authorize(actor, roles.CHANGE, property_manager, model=PropertyManager)
    pm = property_manager
    pm.first_name, pm.last_name, pm.language = first_name, last_name, language
    pm.monthly_password_reminder = monthly_password_reminder
    pm.full_clean(exclude=["password"])
    pm.save()
    return pm


ASSIGNMENT_PERMISSIONS = {
    "app_enabled": _("App"),
    "delete_account_permission": _("Delete Account Permission"),
    "log_access_control": _("Log Access Control"),
}


def pm_unassigned_permission_errors(*, property_manager, assigned: bool, permissions: dict) -> dict[str, str]:
    """A permission is given with the community's assignment: switched on for a property manager
    who is not assigned, it would be dropped unseen, so the installer is told at the switch."""
    if assigned:
        return {}
    return {
        name: gettext(
            "Tick Assigned as well: %(permission)s is given to %(name)s only together with this community."
        )
        % {"permission": label, "name": property_manager.display_name}
        for name, label in ASSIGNMENT_PERMISSIONS.items()
        if permissions.get(name)
    }


@transaction.atomic
def pm_assignments_set(*, actor, community, rows: list[dict]) -> list[PropertyManagerAssignment]:
    """Replace the community's property managers with `rows` (property_manager + permission flags).

    The caller's form already limited the choices to the actor's PMs; this re-checks every one
    (another tenant's property manager is not found).
    """
    authz.authorize(actor, roles.CHANGE, PropertyManagerAssignment, parent=community)
    chosen = {row["property_manager"].pk: row for row in rows}
    authz.get_many_for_actor(PropertyManager, actor, chosen)
    existing = {a.property_manager_id: a for a in community.pm_assignments.all()}
    for pm_id, assignment in existing.items():
        if pm_id not in chosen:
            assignment.delete()
    result = []
    for pm_id, row in chosen.items():
        assignment = existing.get(pm_id) or PropertyManagerAssignment(
            community=community, property_manager_id=pm_id
        )
        assignment.app_enabled = row.get("app_enabled", False)
        assignment.delete_account_permission = row.get("delete_account_permission", False)
        assignment.log_access_control = row.get("log_access_control", False)
        assignment.save()
        result.append(assignment)
    return result


def pm_app_password_reset(*, actor, assignment: PropertyManagerAssignment) -> None:
    """Send the property manager a new SmartPlus App password link (the app uses the same login)."""
    authz.authorize(actor, "reset_app_password", assignment)
    if not assignment.app_enabled:
        raise ValidationError(gettext("Enable App for this property manager first."))
    with transaction.atomic():
        assignment.app_password_reset_at = timezone.now()
        assignment.save(update_fields=["app_password_reset_at", "modified"])
        _issue_credentials(assignment.property_manager)


def password_reminder_due(*, user) -> bool:
    if user.role != Role.PROPERTY_MANAGER or not user.monthly_password_reminder:
        return False
    changed = user.password_changed_at or user.date_joined
    return timezone.now() - changed >= datetime.timedelta(days=settings.SMARTPLUS_PASSWORD_REMINDER_DAYS)


# --- Installers (distributor) ---


@transaction.atomic
def installer_create(
    *,
    actor,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    account_access_enabled: bool = False,
) -> Installer:
    # No tenant object is given: the installer goes under the actor (roles.py: distributors).
    authz.require_role(actor, roles.ADD, Installer)
    inst = _new_account(
        Installer,
        role=Role.INSTALLER,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        distributor=actor,
        account_access_enabled=account_access_enabled,
        time_zone=actor.time_zone,
    )
    _issue_credentials(inst)
    return inst


@transaction.atomic
def installer_update(
    *,
    actor,
    installer: Installer,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    account_access_enabled: bool = False,
) -> Installer:
    authz.authorize(actor, roles.CHANGE, installer, model=Installer)
    _check_unique(email=email, exclude_pk=installer.pk)
    installer.email, installer.first_name, installer.last_name = email, first_name, last_name
    installer.phone = phone
    installer.account_access_enabled = account_access_enabled
    installer.full_clean(exclude=["password"])
    installer.save()
    return installer


# --- Account menu ---


def _not_while_acting(request_user, actor) -> None:
    # A distributor acting as an installer must not change the installer's credentials or grants.
    if request_user.pk != actor.pk:
        raise PermissionDenied


def account_access_set(*, real_user, actor, granted: bool) -> User:
    _not_while_acting(real_user, actor)
    # The actor's own account: no tenant object is given.
    authz.require_role(actor, roles.CHANGE, "accounts.accountaccess")
    if not actor.account_access_enabled:
        raise PermissionDenied
    actor.permission_granted = granted
    actor.save(update_fields=["permission_granted"])
    return actor


def user_time_zone_set(*, actor, time_zone: str) -> User:
    actor.time_zone = time_zone
    actor.full_clean(exclude=["password"])
    actor.save(update_fields=["time_zone"])
    return actor


def ui_language_set(*, actor, code: str) -> User:
    """The actor's own UI language: a code of settings.LANGUAGES, or "" to follow the browser."""
    if code and code not in dict(settings.LANGUAGES):
        raise ValidationError({"ui_language": "Unknown language."})
    if actor.ui_language != code:
        actor.ui_language = code
        actor.save(update_fields=["ui_language"])
    return actor


def user_password_check(*, real_user, actor, password: str) -> None:
    _not_while_acting(real_user, actor)
    if not actor.has_usable_password() or not actor.check_password(password):
        raise ValidationError({"original_password": gettext("The original password is not correct.")})


def user_password_change(*, real_user, actor, new_password: str) -> User:
    _not_while_acting(real_user, actor)
    validate_password(new_password, actor)
    actor.set_password(new_password)
    actor.password_changed_at = timezone.now()
    actor.save(update_fields=["password", "password_changed_at"])
    return actor


def _installer_owned_save(model, *, actor, action_model, **fields):
    # The actor's own tenant's row: no tenant object is given.
    authz.require_role(actor, roles.CHANGE, action_model)
    installer_id = _own_tenant_id(actor)
    obj = model.objects.filter(installer_id=installer_id).first() or model(installer_id=installer_id)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def billing_information_save(*, actor, **fields) -> BillingInformation:
    return _installer_owned_save(BillingInformation, actor=actor, action_model=BillingInformation, **fields)


@transaction.atomic
def customer_service_save(*, actor, **fields) -> CustomerService:
    return _installer_owned_save(CustomerService, actor=actor, action_model=CustomerService, **fields)


def pm_app_subscriptions_extend(*, actor, assignment_ids, expires_at, activate: bool = False) -> int:
    """Property manager apps paid for (billing's fulfilment): activated (an activation) and
    expiring at `expires_at`, in one UPDATE. The actor is the paying order's installer."""
    from smartplus import audit

    authz.require_role(actor, roles.CHANGE, PropertyManagerAssignment)
    rows = PropertyManagerAssignment.objects.for_actor(actor, roles.CHANGE).filter(
        pk__any_of=(wanted := sorted(set(assignment_ids)))
    )
    if rows.count() != len(wanted):
        raise authz.NotFound  # all or nothing: the caller passes ids that still exist
    values = {"app_expires_at": expires_at, **({"app_activated": True} if activate else {})}
    return audit.update(rows, **values)
