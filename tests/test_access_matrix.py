"""Role x URL access matrix: every URL pattern, probed with GET and POST as ten actors.

A pattern without an expectation row fails the test, so a new URL cannot ship unchecked.
Expected codes: OK (2xx, 3xx not to a login page, 422 form errors), LOGIN (redirect to login),
ADMIN_LOGIN, 400/403/404/405, ANY (third-party page: below 500). Every 2xx body is also checked
for names the actor must never see.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import World, build_world

ACTORS = ["anon", "inst_a", "sub_a", "inst_b", "pm_a", "pm_none", "dist_a", "acting", "dist_other", "root"]
OK, LOGIN, ADMIN_LOGIN, ANY = "ok", "login", "admin_login", "any"
LOGGED_IN = [a for a in ACTORS if a != "anon"]


def row(default, **over) -> dict:
    return {a: over.get(a, default) for a in ACTORS} | {"anon": over.get("anon", LOGIN)}


def same(r: dict) -> dict:
    return {"get": r, "post": r}


def get_only(r: dict) -> dict:
    """A read-only page: POST is 405 wherever the role may view it."""
    post = {a: (405 if code in (OK, 404) else code) for a, code in r.items()}
    return {"get": r, "post": post}


def post_only(r: dict) -> dict:
    """An action: GET is 405 wherever the role holds the action."""
    get = {a: (405 if code in (OK, 404) else code) for a, code in r.items()}
    return {"get": get, "post": r}


# Who may touch installer A's shared data, for views on objects owned by A.
A_SHARED = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404)
A_MAIN_ONLY = row(403, inst_a=OK, acting=OK, inst_b=404)
A_SHARED_ADD = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK)
COMMUNITY_VIEW = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, pm_a=OK, pm_none=404, root=OK)
COMMUNITY_CHANGE = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, root=OK)
# Residents: property managers of the community edit apartments and end users, and reset.
RESIDENTS_CHANGE = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, pm_a=OK, pm_none=404)
MAC_LIBRARY = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, dist_a=OK, dist_other=OK)
A_MAC_IMPORT = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, dist_a=OK, dist_other=404)
# Logs: installers' staff and the super manager; a PM only with Log Access Control.
LOGS_VIEW = row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, pm_a=404, pm_none=404, root=OK)
AUTHED = row(ANY, acting=ANY)
AUTHED_PERSONAL = row(ANY, acting=403)  # credentials: never while acting as someone else

# Device-facing URLs: a browser session is no credential there (HTTP Basic with the device secret).
DEVICE_AUTH = row(401, anon=401)
NOT_ALLOWED = row(405, anon=405)

EXPECTED: dict[str, dict] = {
    "home": same(row(OK)),
    "favicon": get_only(row(OK, anon=OK)),
    # --- the device API and AutoP files ---
    "device_api:register": {"get": NOT_ALLOWED, "post": row(415, anon=415)},  # a form post is not JSON
    "device_api:heartbeat": {"get": NOT_ALLOWED, "post": DEVICE_AUTH},
    "device_api:command_result": {"get": NOT_ALLOWED, "post": DEVICE_AUTH},
    "device_api:autop": {"get": DEVICE_AUTH, "post": NOT_ALLOWED},
    "firmware_api:download": {"get": row(403, anon=403), "post": NOT_ALLOWED},  # "x" is no link
    "logs_api:events": {"get": NOT_ALLOWED, "post": DEVICE_AUTH},
    "logs_api:event_image": {"get": NOT_ALLOWED, "post": DEVICE_AUTH},
    # --- logs: Door Log, Call History, Captured Images (pm_a lacks Log Access Control: 404) ---
    **{
        name: get_only(LOGS_VIEW)
        for name in ("logs:door_log", "logs:call_history", "logs:captured_images", "logs:capturedimage_file")
    },
    "access_api:users": {"get": DEVICE_AUTH, "post": NOT_ALLOWED},
    # --- access: credentials (property managers of the community too) ---
    "access:community_credentials": get_only(COMMUNITY_VIEW),
    "access:apartment_credentials": get_only(COMMUNITY_VIEW),
    "access:credential_add": same(RESIDENTS_CHANGE),
    "access:credential_edit": same(RESIDENTS_CHANGE),
    "access:credential_delete": same(RESIDENTS_CHANGE),
    "access:credential_bulk_delete": post_only(RESIDENTS_CHANGE),
    # the credentials template: anyone who adds credentials downloads it; a community's import
    "access:credential_template": get_only(
        row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, pm_a=OK, pm_none=OK)
    ),
    "access:credential_import": same(RESIDENTS_CHANGE),
    "access:credentialimport_detail": get_only(RESIDENTS_CHANGE | {"root": OK}),
    "access:credentialimport_confirm": post_only(RESIDENTS_CHANGE),
    "access:credentialimport_errors": get_only(RESIDENTS_CHANGE | {"root": OK}),
    # --- communities ---
    "communities:dashboard": get_only(row(OK, dist_a=403, dist_other=403)),
    "communities:community_add": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK)),
    "communities:community_detail": get_only(COMMUNITY_VIEW),
    "communities:community_edit": same(COMMUNITY_CHANGE),
    "communities:community_delete": same(COMMUNITY_CHANGE),
    "communities:community_property_managers": same(A_SHARED),
    "communities:building_add": same(A_SHARED),
    "communities:building_edit": same(A_SHARED),
    "communities:building_delete": same(A_SHARED),
    # --- residents: the Resident and Device page ---
    "residents:community_residents": get_only(COMMUNITY_VIEW),
    "residents:building_apartments": get_only(COMMUNITY_VIEW),
    "residents:apartment_add": same(A_SHARED),
    "residents:apartment_detail": get_only(COMMUNITY_VIEW),
    "residents:apartment_edit": same(RESIDENTS_CHANGE),
    "residents:apartment_reset_password": same(RESIDENTS_CHANGE),
    "residents:apartment_delete": same(A_SHARED),
    # Reset deletes family-member accounts: pm_a lacks the Delete Account Permission.
    "residents:apartment_reset": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, pm_none=404)),
    "residents:familymember_add": same(RESIDENTS_CHANGE),
    "residents:familymember_edit": same(RESIDENTS_CHANGE),
    # pm_a lacks the assignment's Delete Account Permission.
    "residents:resident_delete": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, pm_none=404)),
    # --- residents and devices template: download, and a community's import ---
    "devices:template": get_only(A_SHARED_ADD),
    "devices:community_import": same(A_SHARED),
    "devices:residentimport_detail": get_only(A_SHARED | {"root": OK}),
    "devices:residentimport_confirm": post_only(A_SHARED),
    "devices:residentimport_errors": get_only(A_SHARED | {"root": OK}),
    # --- devices: intercom devices and third-party cameras (PMs see them, installers edit) ---
    "devices:community_devices": get_only(COMMUNITY_VIEW),
    "devices:community_cameras": get_only(COMMUNITY_VIEW),
    "devices:public_devices": get_only(COMMUNITY_VIEW),
    "devices:building_devices": get_only(COMMUNITY_VIEW),
    "devices:device_detail": get_only(COMMUNITY_VIEW),
    "devices:public_device_add": same(A_SHARED),
    "devices:building_device_add": same(A_SHARED),
    "devices:apartment_device_add": same(A_SHARED),
    "devices:device_edit": same(A_SHARED),
    # First contact: adopt / reject a pending registration of A's device; the tenant's own code.
    "devices:registrationrequest_adopt": post_only(A_SHARED),
    "devices:registrationrequest_reject": post_only(A_SHARED),
    "devices:provisioningcode_detail": get_only(A_SHARED_ADD),
    "devices:provisioningcode_regenerate": post_only(A_SHARED_ADD),
    "devices:device_delete": same(A_SHARED),
    "devices:public_cameras": get_only(COMMUNITY_VIEW),
    "devices:building_cameras": get_only(COMMUNITY_VIEW),
    "devices:public_camera_add": same(A_SHARED),
    "devices:building_camera_add": same(A_SHARED),
    "devices:apartment_camera_add": same(A_SHARED),
    "devices:camera_edit": same(A_SHARED),
    "devices:camera_delete": same(A_SHARED),
    # --- devices: remote maintenance ---
    # Settings, Reboot, Reset, One-Time AutoP and Remote Control are the installer's (PMs see the
    # operations on the device page). The relay's "x" is no link: refused to everyone logged in.
    "devices:device_settings": same(A_SHARED),
    "devices:device_reboot": post_only(A_SHARED),
    "devices:device_reset": same(A_SHARED),
    "devices:device_one_time_autop": same(A_SHARED),
    "devices:device_remote_control": post_only(A_SHARED),
    "devices:device_remote": same(row(403)),
    "devices:device_remote_path": same(row(403)),
    # --- MAC library: every installer has its own; a distributor registers MACs for its installers ---
    "maclib:mac_list": get_only(MAC_LIBRARY | {"root": OK}),
    "maclib:mac_add": same(MAC_LIBRARY),
    "maclib:mac_import": same(MAC_LIBRARY),
    "maclib:mac_template": get_only(MAC_LIBRARY),
    # An import of installer A's library (uploaded, checked, with errors to download).
    "maclib:macimport_detail": get_only(A_MAC_IMPORT | {"root": OK}),
    "maclib:macimport_confirm": post_only(A_MAC_IMPORT),
    "maclib:macimport_errors": get_only(A_MAC_IMPORT | {"root": OK}),
    # mac_a is installer A's (bound to "Alpha Gate": removing it is refused with a message).
    "maclib:mac_delete": same(
        row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=404, dist_a=OK, dist_other=404)
    ),
    # --- firmware: catalogue and upgrades ---
    # The catalogue is global (every installer reads all of it); upgrades are installer A's,
    # the super manager only looks. The upgrade probed is Pending, so Edit shows its form.
    "firmware:firmware_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "firmware:firmware_detail": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "firmware:upgrade_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "firmware:upgrade_add": same(A_SHARED_ADD),
    "firmware:upgrade_detail": get_only(A_SHARED | {"root": OK}),
    "firmware:upgrade_edit": same(A_SHARED),
    "firmware:upgrade_delete": same(A_SHARED),
    # --- Rent Manager: the super manager links installers; the installer sees its log, syncs ---
    "rentmanager:connection_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "rentmanager:connection_add": same(row(403, root=OK)),
    "rentmanager:connection_edit": same(row(403, root=OK)),
    "rentmanager:connection_detail": get_only(A_SHARED | {"root": OK}),
    "rentmanager:connection_sync": post_only(A_SHARED | {"root": OK}),
    # --- billing: Subscriptions, Payments, Coupon Details ---
    # Installer A's order of community A (Pay By Installer, Processing): property managers see
    # only Pay By PM orders (404); the super manager only looks; a distributor has no orders.
    # An empty POST to Next is a form error (422); Pay without Billing Information a message.
    "billing:order_add": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, pm_a=OK, pm_none=OK)),
    "billing:renew": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, pm_a=OK, pm_none=OK)),
    "billing:order_quote": post_only(
        row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, pm_a=OK, pm_none=OK)
    ),
    "billing:order_pending": get_only(A_SHARED | {"pm_a": 404, "pm_none": 404}),
    "billing:order_coupon": post_only(A_SHARED | {"pm_a": 404, "pm_none": 404}),
    "billing:order_pay": post_only(A_SHARED | {"pm_a": 404, "pm_none": 404}),
    "billing:order_return": get_only(A_SHARED | {"pm_a": 404, "pm_none": 404, "root": OK}),
    "billing:order_cancelled": same(A_SHARED | {"pm_a": 404, "pm_none": 404}),
    "billing:order_list": get_only(
        row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, pm_a=OK, pm_none=OK, root=OK)
    ),
    "billing:order_detail": get_only(A_SHARED | {"pm_a": 404, "pm_none": 404, "root": OK}),
    "billing:order_invoice": get_only(A_SHARED | {"pm_a": 404, "pm_none": 404, "root": OK}),
    "billing:order_delete": same(A_SHARED | {"pm_a": 404, "pm_none": 404}),
    "billing:coupon_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "billing:coupon_redeem": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK)),
    # Stripe's webhook: no session, no CSRF token; an unsigned POST is 400 for everyone.
    "billing:stripe_webhook": {"get": row(405, anon=405), "post": row(400, anon=400)},
    # --- accounts: sub-accounts and property managers ---
    "accounts:subaccount_add": same(row(403, inst_a=OK, acting=OK, inst_b=OK)),
    "accounts:subaccount_edit": same(A_MAIN_ONLY),
    "accounts:subaccount_delete": same(A_MAIN_ONLY),
    "accounts:subaccount_reset_password": post_only(A_MAIN_ONLY),
    "accounts:propertymanager_add": same(A_SHARED_ADD),
    "accounts:propertymanager_edit": same(A_SHARED),
    "accounts:propertymanager_delete": same(A_SHARED),
    "accounts:propertymanager_reset_password": post_only(A_SHARED),
    "accounts:propertymanagerassignment_reset_app_password": post_only(A_SHARED),
    # --- distributor ---
    "accounts:installer_list": get_only(row(403, dist_a=OK, dist_other=OK, root=OK)),
    "accounts:installer_add": same(row(403, dist_a=OK, dist_other=OK)),
    "accounts:installer_edit": same(row(403, dist_a=OK, dist_other=404)),
    "accounts:installer_reset_password": post_only(row(403, dist_a=OK, dist_other=404)),
    # --- account menu ---
    "accounts:password_change": same(row(OK, acting=403)),
    "accounts:password_reminder_dismiss": post_only(row(OK)),
    "accounts:time_zone": same(row(OK)),
    # The language menu: everyone, signed in or not (GET: 405).
    "accounts:ui_language": post_only(row(OK, anon=OK)),
    "accounts:billing_information": same(row(403, inst_a=OK, acting=OK, inst_b=OK)),
    "accounts:customer_service": same(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK)),
    "accounts:account_setting": same(row(403, inst_a=OK, inst_b=OK)),
    "auditlog_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    # --- notifications: the log, and the app's feedback (HTTP Basic as the app; no session) ---
    "notifications:notification_list": get_only(row(403, inst_a=OK, sub_a=OK, acting=OK, inst_b=OK, root=OK)),
    "notifications:feedback": {"get": NOT_ALLOWED, "post": row(401, anon=401)},
    # --- pmportal: the Premium controls (community A has no Premium plan in force here, so a
    # switch is refused at the service with 403 even for its installer and property manager) ---
    "pmportal:premium_controls": get_only(COMMUNITY_VIEW),
    "pmportal:app_community_settings": {"get": row(401, anon=401), "post": NOT_ALLOWED},
    "pmportal:premium_control_set": {
        "get": row(405, dist_a=403, dist_other=403, root=403),
        "post": row(403, inst_b=404, pm_none=404),
    },
    # --- impersonation (the full grid is in test_impersonation.py) ---
    "hijack:acquire": {"get": row(400, anon=400), "post": row(403)},
    "hijack:release": {"get": row(403, anon=403, acting=405), "post": row(403, anon=403, acting=OK)},
    # --- allauth: login, reset, 2FA. Credential pages are refused while acting. ---
    **{
        name: same(row(ANY, anon=ANY))
        for name in (
            "account_login",
            "account_logout",
            "account_inactive",
            "account_signup",
            "account_email_verification_sent",
            "account_confirm_login_code",
            "account_confirm_email",
            "account_reset_password",
            "account_reset_password_done",
            "account_reset_password_from_key",
            "account_reset_password_from_key_done",
            "mfa_authenticate",
        )
    },
    # Reauthentication (by password, or since allauth 65.22 by a code sent to a verified
    # address) confirms the signed-in person again; like the password form it stays open
    # while acting, since the code goes to the acted-as installer and not to the actor.
    **{
        name: same(AUTHED)
        for name in (
            "account_reauthenticate",
            "account_request_reauthentication_code",
            "account_confirm_reauthentication_code",
        )
    },
    "mfa_reauthenticate": same(AUTHED_PERSONAL),
    **{
        name: same(AUTHED_PERSONAL)
        for name in (
            "account_email",
            "account_change_password",
            "account_set_password",
            "mfa_index",
            "mfa_activate_totp",
            "mfa_deactivate_totp",
            "mfa_view_recovery_codes",
            "mfa_generate_recovery_codes",
            "mfa_download_recovery_codes",
        )
    },
}
# The Django admin is the super manager's: everyone else goes to the admin login, which is the
# portal's login (two-factor, rate limits) for visitors and a refusal for users without admin
# rights; the admin's logout is the portal's (307 keeps the POST) for the super manager, and the
# admin's index for anyone else.
ADMIN = same(row(ADMIN_LOGIN, anon=ADMIN_LOGIN, root=ANY))
ADMIN_OWN = {
    "admin:login": same(row(403, anon=LOGIN, root=OK)),
    "admin:logout": same(row(302, anon=302, root=307)),
}

# What each actor must never read. Installer A's data, installer B's data, and A's account names.
A_NAMES = ["Alpha Gardens", "Alpha Towers", "helper_sam", "pm_a@example.test"]
A_RESIDENTS = ["Alpha Block", "Lily Zheng", "Jim Wang", "Alpha Gate", "Alpha Cam"]
B_NAMES = ["Bravo Heights", "pm_b@example.test", "inst_b", "Bravo Block", "Bravoresident", "Bravo Gate"]
FORBIDDEN_TEXT = {
    "anon": A_NAMES + A_RESIDENTS + B_NAMES,
    "inst_a": B_NAMES,
    "sub_a": B_NAMES,
    "acting": B_NAMES,
    "inst_b": [*A_NAMES, *A_RESIDENTS, "inst_a"],
    "pm_a": ["Alpha Towers", "helper_sam", *B_NAMES],
    "pm_none": ["Alpha Gardens", "Alpha Towers", "helper_sam", *A_RESIDENTS, *B_NAMES],
    "dist_a": ["Alpha Gardens", "Alpha Towers", "helper_sam", "pm_a@example.test", *A_RESIDENTS, *B_NAMES],
    "dist_other": [*A_NAMES, *A_RESIDENTS, "inst_a", "Bravo Heights", "pm_b@example.test", "Bravo Block"],
    "root": [],
}


def _walk(patterns, ns=None, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            child = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p.url_patterns, child, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            # Unnamed patterns (the admin's redirects and catch-all) are keyed by their full route.
            name = p.name or f"<unnamed /{prefix}{p.pattern}>"
            yield (f"{ns}:{name}" if ns else name), p


def _unnamed_url(name: str) -> str:
    route = name.split("<unnamed ", 1)[1][:-1]
    route = route.replace("<path:object_id>", "1").replace("(?P<url>.*)$", "x").replace("^", "")
    return route


def all_url_names() -> list[str]:
    return sorted({name for name, _ in _walk(get_resolver().url_patterns)})


def _import_jobs(w: World) -> tuple[int, int]:
    """An import of installer A's MAC library and one into community A, both checked with errors."""
    from maclib.models import MacImport
    from residents.models import ResidentImport
    from smartplus.models import ImportStatus
    from tests.maclib.workbooks import mac_file

    fields = {
        "installer": w.installer_a,
        "user": w.installer_a,
        "actor": w.installer_a,
        "file_name": "alpha.xlsx",
        "content": mac_file("not-a-mac"),
        "status": ImportStatus.REJECTED,
        "errors": [[2, "MAC", "not a MAC"]],
    }
    mac_job = MacImport.objects.create(**fields)
    resident_job = ResidentImport.objects.create(community=w.community_a, **fields)
    return mac_job.pk, resident_job.pk


def _firmware_objects(w: World) -> tuple[int, int]:
    """A catalogue firmware and installer A's Pending upgrade of device_a to it (due tomorrow)."""
    from datetime import timedelta

    from django.utils import timezone

    from firmware.choices import Timing
    from firmware.services import upgrade_create
    from tests.firmware.factories import make_firmware

    firmware = make_firmware("29.30.2.805")
    upgrade = upgrade_create(
        actor=w.installer_a,
        firmware=firmware,
        devices=[w.device_a],
        timing=Timing.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    return firmware.pk, upgrade.pk


def _kwargs_for(name: str, pattern: URLPattern, w: World) -> dict:
    if name.startswith(("maclib:macimport", "devices:residentimport")):
        mac_job, resident_job = _import_jobs(w)
        return {"pk": mac_job if name.startswith("maclib:") else resident_job}
    if name.startswith("access:credentialimport"):
        from access.models import CredentialImport
        from smartplus.models import ImportStatus
        from tests.maclib.workbooks import mac_file

        job = CredentialImport.objects.create(
            community=w.community_a,
            installer=w.installer_a,
            user=w.installer_a,
            actor=w.installer_a,
            file_name="alpha-credentials.xlsx",
            content=mac_file("not-a-credential"),
            status=ImportStatus.REJECTED,
            errors=[[2, "APT", "No APT “999” in this community."]],
        )
        return {"pk": job.pk}
    if name.startswith("devices:registrationrequest"):
        from django.utils import timezone

        from devices.models import RegistrationRequest

        now = timezone.now()
        request = RegistrationRequest.objects.create(
            device=w.device_a, claim_hash="0" * 64, first_seen_at=now, last_seen_at=now
        )
        return {"pk": request.pk}
    if name.startswith("billing:order") and "pk" in pattern.pattern.regex.groupindex:
        from billing.choices import ItemType, OrderType
        from billing.services import Item, order_create

        order = order_create(
            actor=w.installer_a, order_type=OrderType.ACTIVATION, items=[Item(ItemType.APP, w.resident_a.pk)]
        )
        return {"pk": order.pk}
    if name == "logs:capturedimage_file":
        from tests.logs.support import make_image

        return {"community_pk": w.community_a.pk, "pk": make_image(w.device_a).pk}
    if name.startswith("rentmanager:") and "pk" in pattern.pattern.regex.groupindex:
        from rentmanager.models import Connection

        connection, _ = Connection.objects.get_or_create(
            installer=w.installer_a,
            defaults={"base_url": "http://127.0.0.1:9", "username": "api", "password_encrypted": "x"},
        )
        return {"pk": connection.pk}
    if name.startswith("access:credential_") and "pk" in pattern.pattern.regex.groupindex:
        from access.services import credential_create

        credential = credential_create(
            actor=w.installer_a, resident_id=w.resident_a.pk, fields={"kind": "pin", "code": "1234"}
        )
        return {"pk": credential.pk}
    if name.startswith("firmware:") and "pk" in pattern.pattern.regex.groupindex:
        firmware, upgrade = _firmware_objects(w)
        return {"pk": firmware if name.startswith("firmware:firmware") else upgrade}
    objects = {
        "communities:building": w.building_a.pk,
        "communities:": w.community_a.pk,
        "residents:apartment": w.apartment_a.pk,
        "devices:device": w.device_a.pk,
        "device_api:command": w.device_a.pk,
        "devices:camera": w.camera_a.pk,
        "maclib:": w.mac_a.pk,
        "residents:familymember": w.member_a.pk,
        "residents:resident": w.member_a.pk,
        "accounts:subaccount": w.sub_a.pk,
        "accounts:propertymanagerassignment": w.assignment_a.pk,
        "accounts:propertymanager": w.pm_a.pk,
        "accounts:installer": w.installer_a.pk,
    }
    parents = {
        "community_pk": w.community_a.pk,
        "building_pk": w.building_a.pk,
        "apartment_pk": w.apartment_a.pk,
    }
    kwargs = {}
    for key in pattern.pattern.regex.groupindex:
        if key == "pk":
            kwargs[key] = next(v for prefix, v in objects.items() if name.startswith(prefix))
        elif key in parents:
            kwargs[key] = parents[key]
        elif key == "mac":
            kwargs[key] = w.device_a.mac_address.mac
        elif key == "kind":
            kwargs[key] = "door"
        elif key == "app_label":
            kwargs[key] = "communities"
        elif key in ("object_id", "content_type_id") or key == "uidb36":
            kwargs[key] = "1"
        else:
            kwargs[key] = "x"
    return kwargs


def _client_for(actor: str, w: World) -> Client:
    client = Client()
    users = {
        "inst_a": w.installer_a,
        "sub_a": w.sub_a,
        "inst_b": w.installer_b,
        "pm_a": w.pm_a,
        "pm_none": w.pm_nothing,
        "dist_a": w.distributor_a,
        "dist_other": w.distributor_other,
        "root": w.superuser,
    }
    if actor == "anon":
        return client
    if actor == "acting":
        w.installer_a.permission_granted = True
        w.installer_a.save(update_fields=["permission_granted"])
        client.force_login(w.distributor_a)
        response = client.post(reverse("hijack:acquire"), {"user_pk": w.installer_a.pk})
        assert response.status_code == 302, "distributor could not start acting as installer A"
        return client
    client.force_login(users[actor])
    return client


def _check(expected, response, actor: str, where: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    if expected == OK:
        assert status in (200, 204, 302, 303, 422), f"{where}: expected OK, got {status}"
        if status in (302, 303):
            assert "/login/" not in location, f"{where}: expected OK, redirected to {location}"
    elif expected == LOGIN:
        assert status == 302 and location.startswith("/accounts/login/"), (
            f"{where}: expected login, got {status} {location}"
        )
    elif expected == ADMIN_LOGIN:
        assert status == 302 and location.startswith("/admin/login/"), (
            f"{where}: expected admin login, got {status} {location}"
        )
    elif expected == ANY:
        assert status < 500, f"{where}: server error {status}"
    else:
        assert status == expected, f"{where}: expected {expected}, got {status} {location}"
    if status == 200 and response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        for text in FORBIDDEN_TEXT[actor]:
            assert text not in body, f"{where}: leaked {text!r}"


@pytest.mark.parametrize("name", all_url_names(), ids=str)
def test_url_access_for_every_role(name, db):
    if name in ADMIN_OWN:
        expectation = ADMIN_OWN[name]
    else:
        expectation = ADMIN if name.startswith("admin:") else EXPECTED.get(name)
    assert expectation is not None, f"URL {name!r} has no row in the access matrix"
    w = build_world()
    pattern = dict(_walk(get_resolver().url_patterns))[name]
    url = _unnamed_url(name) if "<unnamed " in name else reverse(name, kwargs=_kwargs_for(name, pattern, w))
    for actor in ACTORS:
        for method in ("get", "post"):
            with transaction.atomic():
                client = _client_for(actor, w)
                data = {"user_pk": w.installer_a.pk} if name == "hijack:acquire" else {}
                response = getattr(client, method)(url, data) if method == "post" else client.get(url)
                _check(expectation[method][actor], response, actor, f"{method.upper()} {url} as {actor}")
                transaction.set_rollback(True)


def test_every_expectation_names_a_real_url():
    """A stale row (a URL that no longer exists) is as misleading as a missing one."""
    names = set(all_url_names())
    assert set(EXPECTED) - names == set()
