"""Role -> allowed actions per model, as data. The only place that says what a role may do.

`smartplus.scoping` decides *which rows* an actor sees; this module decides *which actions* a
role may take on a model at all. A role missing here has no access.
"""

from __future__ import annotations

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
CRUD = frozenset({VIEW, ADD, CHANGE, DELETE})

INSTALLER = "installer"
SUB_INSTALLER = "sub_installer"
PROPERTY_MANAGER = "property_manager"
DISTRIBUTOR = "distributor"
SUPER_MANAGER = "super_manager"

# What the installer and its sub-installers share ("the data shown are exactly the same").
_INSTALLER_DATA = {
    # use_premium: the Premium plan's features, while the plan is in force (a predicate).
    "communities.community": CRUD | {"use_premium"},
    "communities.building": CRUD,
    "residents.apartment": CRUD | {"reset"},
    "residents.resident": CRUD,
    "devices.device": CRUD,
    "devices.thirdpartycamera": CRUD,
    # Remote maintenance: queue reboot, reset, AutoP (add) and see their state (view).
    "devices.devicecommand": frozenset({VIEW, ADD}),
    # First contact: see a device's pending registrations, adopt (change) or reject (delete) them;
    # see and regenerate the tenant's provisioning code.
    "devices.registrationrequest": frozenset({VIEW, CHANGE, DELETE}),
    "devices.provisioningcode": frozenset({VIEW, CHANGE}),
    "firmware.firmware": frozenset({VIEW}),
    "firmware.firmwareupgrade": CRUD,
    "firmware.upgradeoperation": frozenset({VIEW}),
    "maclib.macaddress": frozenset({VIEW, ADD, DELETE}),
    # Imports: upload (add), see the preview and result (view), confirm (change).
    "maclib.macimport": frozenset({VIEW, ADD, CHANGE}),
    "residents.residentimport": frozenset({VIEW, ADD, CHANGE}),
    "accounts.propertymanager": CRUD | {"reset_password"},
    "accounts.propertymanagerassignment": CRUD | {"reset_app_password"},
    "smartplus.auditlog": frozenset({VIEW}),
    "accounts.customerservice": frozenset({VIEW, CHANGE}),
    # The tenant's own installer account: whose MAC library the staff add to (scoping: itself).
    "accounts.user": frozenset({VIEW}),
    # Subscriptions and Payments: create an order (add), pay it, delete (or hide) it; redeem
    # coupons ("Exchange Coupon"). Who may pay which community's items is its Charge Mode's.
    "billing.order": frozenset({VIEW, ADD, DELETE, "pay"}),
    "billing.coupon": frozenset({VIEW, "redeem"}),
    # The emails the portal sent the tenant's users (and their state): read only.
    "notifications.notification": frozenset({VIEW}),
    # Door Log, Call History, Captured Images: what the devices reported, read only.
    "logs.doorevent": frozenset({VIEW}),
    "logs.callevent": frozenset({VIEW}),
    "logs.capturedimage": frozenset({VIEW}),
    # The Rent Manager link the super manager made: its sync log, and "Sync now".
    "rentmanager.connection": frozenset({VIEW, "sync"}),
    "rentmanager.syncrun": frozenset({VIEW}),
    # PIN codes and RF cards of end users, and what each door device holds of them.
    "access.credential": CRUD,
    "access.deviceusers": frozenset({VIEW}),
    "access.credentialimport": frozenset({VIEW, ADD, CHANGE}),
}

PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    INSTALLER: {
        **_INSTALLER_DATA,
        # Only the main account manages sub-accounts, billing information and account access.
        "accounts.subaccount": CRUD | {"reset_password"},
        "accounts.billinginformation": frozenset({VIEW, CHANGE}),
        "accounts.accountaccess": frozenset({VIEW, CHANGE}),
    },
    SUB_INSTALLER: dict(_INSTALLER_DATA),
    PROPERTY_MANAGER: {
        "communities.community": frozenset({VIEW, "use_premium"}),
        "communities.building": frozenset({VIEW}),
        # Residents are the property manager's daily work; deleting an end user (or a whole
        # apartment's accounts) also needs the assignment's "Delete Account Permission".
        "residents.apartment": frozenset({VIEW, CHANGE, "reset"}),
        "residents.resident": CRUD,
        # Devices are the installer's work; property managers see them.
        "devices.device": frozenset({VIEW}),
        "devices.thirdpartycamera": frozenset({VIEW}),
        "devices.devicecommand": frozenset({VIEW}),
        # The orders of their "Pay By PM" communities (scoping: Order.assigned_scope_q).
        "billing.order": frozenset({VIEW, ADD, DELETE, "pay"}),
        # Logs, where the assignment has Log Access Control (a predicate, logs/permissions.py).
        "logs.doorevent": frozenset({VIEW}),
        "logs.callevent": frozenset({VIEW}),
        "logs.capturedimage": frozenset({VIEW}),
        # Credentials under the community's "Permission Of Access Control Management" (a
        # predicate, access/permissions.py: Only Public Area keeps them off personal ones).
        "access.credential": CRUD,
        "access.deviceusers": frozenset({VIEW}),
        # Their imports: the same rules, row by row (access.services.credential_bulk_create).
        "access.credentialimport": frozenset({VIEW, ADD, CHANGE}),
    },
    DISTRIBUTOR: {
        "accounts.installer": frozenset({VIEW, ADD, CHANGE, "reset_password", "impersonate"}),
        # "Registers MACs" for its installers (scoping: the installers whose distributor it is).
        # It chooses the installer whose library a MAC goes to (the others have one).
        "maclib.macaddress": frozenset({VIEW, ADD, DELETE, "choose_installer"}),
        "maclib.macimport": frozenset({VIEW, ADD, CHANGE}),
        # Its installers' accounts, as the owners of MAC libraries (scoping: its installers).
        "accounts.user": frozenset({VIEW}),
    },
    # The super manager sees everything; creating tenant data happens in the Django admin,
    # where an installer is chosen explicitly.
    SUPER_MANAGER: {
        # Only the super manager changes a Feature Plan or Access Control Permission once set.
        "communities.community": frozenset({VIEW, CHANGE, DELETE, "change_locked_settings"}),
        "communities.building": frozenset({VIEW}),
        "residents.apartment": frozenset({VIEW}),
        "residents.resident": frozenset({VIEW}),
        "devices.device": frozenset({VIEW}),
        "devices.thirdpartycamera": frozenset({VIEW}),
        "devices.devicecommand": frozenset({VIEW}),
        # A firmware's published URL, and whose upgrade it is, are the super manager's to see.
        "firmware.firmware": frozenset({VIEW, "view_url"}),
        "firmware.firmwareupgrade": frozenset({VIEW, "view_installer"}),
        "firmware.upgradeoperation": frozenset({VIEW}),
        "maclib.macaddress": frozenset({VIEW}),
        "maclib.macimport": frozenset({VIEW}),
        "residents.residentimport": frozenset({VIEW}),
        "accounts.propertymanager": frozenset({VIEW}),
        "accounts.propertymanagerassignment": frozenset({VIEW}),
        "accounts.subaccount": frozenset({VIEW}),
        "accounts.installer": frozenset({VIEW}),
        "smartplus.auditlog": frozenset({VIEW}),
        "billing.order": frozenset({VIEW}),
        "billing.coupon": frozenset({VIEW}),
        "notifications.notification": frozenset({VIEW}),
        "logs.doorevent": frozenset({VIEW}),
        "logs.callevent": frozenset({VIEW}),
        "logs.capturedimage": frozenset({VIEW}),
        # Rent Manager links: made, changed and removed by the super manager only.
        "rentmanager.connection": CRUD | {"sync"},
        "rentmanager.syncrun": frozenset({VIEW}),
        "access.credential": frozenset({VIEW}),
        "access.deviceusers": frozenset({VIEW}),
        "access.credentialimport": frozenset({VIEW}),
    },
}


# What the layout says of each role, and where its home page is.
ROLE_LABELS = {
    INSTALLER: _("Project Manager"),
    SUB_INSTALLER: _("Project Manager"),
    PROPERTY_MANAGER: _("Property Manager"),
    DISTRIBUTOR: _("Distributor"),
    SUPER_MANAGER: _("Super Manager"),
}
HOME_PAGES = {DISTRIBUTOR: "accounts:installer_list"}
DEFAULT_HOME_PAGE = "communities:dashboard"
# Roles whose rights in a community come from an assignment to it: the assignment's flags
# (Delete Account Permission, Log Access Control) are predicates on what they may do there.
ASSIGNED_ROLES = frozenset({PROPERTY_MANAGER})
# Accounts a distributor may act as (a superuser never: its role is the super manager's).
IMPERSONABLE_ROLES = frozenset({INSTALLER})


def label_of(model: type[Model] | str) -> str:
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


def role_of(actor) -> str | None:
    if actor is None or not actor.is_authenticated:
        return None
    if actor.is_superuser:
        return SUPER_MANAGER
    return actor.role


def allows(actor, model: type[Model] | str, action: str) -> bool:
    """Whether the actor's role may take `action` on `model` at all (rows are scoped elsewhere)."""
    role = role_of(actor)
    if role is None:
        return False
    return action in PERMISSIONS.get(role, {}).get(label_of(model), frozenset())


def role_label(actor) -> str:
    return ROLE_LABELS.get(role_of(actor), "")


def home_page(actor) -> str:
    """The URL name an actor's home redirect goes to."""
    return HOME_PAGES.get(role_of(actor), DEFAULT_HOME_PAGE)


def is_assigned(actor) -> bool:
    """Whether the actor's community rights come from assignments (see ASSIGNED_ROLES)."""
    return role_of(actor) in ASSIGNED_ROLES
