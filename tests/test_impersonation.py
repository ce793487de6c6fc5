"""Distributors acting as installers (django-hijack with our permission check).

Only a distributor may act, only as its own installer, only while the distributor enabled
account access and the installer granted permission; a revoked grant ends the acting on the
next request; every change made while acting is audited with both users.
"""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from communities.models import Community
from smartplus.models import AuditLog
from tests.factories import COMMUNITY_FORM, InstallerFactory, build_world

ACQUIRE = "hijack:acquire"


def _acquire(client: Client, target_pk: int):
    return client.post(reverse(ACQUIRE), {"user_pk": target_pk})


def _hijacked(client: Client) -> bool:
    return bool(client.session.get("hijack_history"))


HIJACKERS = ["dist_a", "dist_other", "inst_a", "inst_b", "sub_a", "pm_a", "root"]
TARGETS = ["inst_a", "inst_b", "sub_a", "pm_a", "dist_other", "root"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hijacker", "target", "enabled", "granted"),
    list(itertools.product(HIJACKERS, TARGETS, [False, True], [False, True])),
)
def test_impersonation_grid_allows_exactly_own_installer_with_access_and_grant(
    hijacker, target, enabled, granted
):
    w = build_world()
    users = {
        "dist_a": w.distributor_a,
        "dist_other": w.distributor_other,
        "inst_a": w.installer_a,
        "inst_b": w.installer_b,
        "sub_a": w.sub_a,
        "pm_a": w.pm_a,
        "root": w.superuser,
    }
    for installer in (w.installer_a, w.installer_b):
        installer.account_access_enabled, installer.permission_granted = enabled, granted
        installer.save()
    client = Client()
    client.force_login(users[hijacker])

    response = _acquire(client, users[target].pk)

    # Each distributor's own installer: dist_a over inst_a, dist_other over inst_b.
    own = {("dist_a", "inst_a"), ("dist_other", "inst_b")}
    allowed = (hijacker, target) in own and enabled and granted
    if allowed:
        assert response.status_code == 302
        assert _hijacked(client)
        assert client.get(reverse("communities:dashboard")).context["actor"] == users[target]
    else:
        assert response.status_code == 403
        assert not _hijacked(client)


@pytest.mark.django_db
def test_acquire_refuses_get():
    w = build_world(granted=True)
    client = Client()
    client.force_login(w.distributor_a)
    response = client.get(reverse(ACQUIRE), {"user_pk": w.installer_a.pk})
    assert response.status_code == 400
    assert not _hijacked(client)


@pytest.mark.django_db
def test_acquire_requires_csrf_token():
    w = build_world(granted=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.distributor_a)
    assert _acquire(client, w.installer_a.pk).status_code == 403
    assert not _hijacked(client)


@pytest.mark.django_db
def test_no_chaining_while_acting():
    w = build_world(granted=True)
    second = InstallerFactory(
        distributor=w.distributor_a, account_access_enabled=True, permission_granted=True
    )
    client = Client()
    client.force_login(w.distributor_a)
    assert _acquire(client, w.installer_a.pk).status_code == 302

    assert _acquire(client, second.pk).status_code == 403
    assert client.session["hijack_history"] == [str(w.distributor_a.pk)]


@pytest.mark.django_db
@pytest.mark.parametrize("revoke", ["installer_withdraws_grant", "distributor_disables_access"])
def test_revoking_releases_distributor_on_next_request(revoke):
    w = build_world(granted=True)
    distributor = Client()
    distributor.force_login(w.distributor_a)
    assert _acquire(distributor, w.installer_a.pk).status_code == 302

    if revoke == "installer_withdraws_grant":
        installer = Client()
        installer.force_login(w.installer_a)
        response = installer.post(reverse("accounts:account_setting"), {"permission_granted": "False"})
        assert response.status_code == 302
    else:
        w.installer_a.account_access_enabled = False
        w.installer_a.save()

    response = distributor.get(reverse("communities:dashboard"))

    assert response.status_code == 302
    assert not _hijacked(distributor)
    follow = distributor.get(response["Location"], follow=True)
    assert follow.context["actor"] == w.distributor_a
    assert "withdrew the permission" in follow.content.decode()
    end = AuditLog.objects.get(action="impersonation_end")
    assert (end.user_id, end.actor_id, end.installer_id) == (
        w.distributor_a.pk,
        w.installer_a.pk,
        w.installer_a.pk,
    )
    assert end.changes["reason"][1] == "permission revoked"


@pytest.mark.django_db
def test_return_to_my_account_ends_acting_and_is_audited():
    w = build_world(granted=True)
    client = Client()
    client.force_login(w.distributor_a)
    _acquire(client, w.installer_a.pk)

    response = client.post(reverse("hijack:release"), {"next": reverse("accounts:installer_list")})

    assert response.status_code == 302 and response["Location"] == reverse("accounts:installer_list")
    assert not _hijacked(client)
    rows = AuditLog.objects.filter(action__startswith="impersonation").order_by("pk")
    assert list(rows.values_list("action", flat=True)) == [
        "impersonation_start",
        "impersonation_end",
    ]


@pytest.mark.django_db
def test_every_change_while_acting_is_audited_with_both_users():
    w = build_world(granted=True)
    client = Client()
    client.force_login(w.distributor_a)
    _acquire(client, w.installer_a.pk)
    start = AuditLog.objects.get(action="impersonation_start")
    assert (start.user_id, start.actor_id) == (w.distributor_a.pk, w.installer_a.pk)

    community_data = {**COMMUNITY_FORM, "name": "Acted Community"}
    assert client.post(reverse("communities:community_add"), community_data).status_code == 302
    created = Community.objects.get(name="Acted Community")
    edit = {**community_data, "name": "Acted Community 2"}
    assert client.post(reverse("communities:community_edit", args=[created.pk]), edit).status_code == 302
    pm_data = {"first_name": "Acted", "last_name": "PM", "email": "acted.pm@example.test", "language": "fr"}
    assert client.post(reverse("accounts:propertymanager_add"), pm_data).status_code == 302
    assign = {f"pm-{w.pm_a.pk}-assigned": "on", f"pm-{w.pm_a.pk}-app_enabled": "on"}
    url = reverse("communities:community_property_managers", args=[created.pk])
    assert client.post(url, assign).status_code == 302
    assert client.post(reverse("accounts:subaccount_delete", args=[w.sub_a.pk])).status_code == 302
    billing = {
        "company": "Acme",
        "attn": "Ops",
        "street": "1 Road",
        "city": "Austin",
        "country": "US",
        "tel": "+1 512 555 0100",
        "email": "billing@example.test",
    }
    assert client.post(reverse("accounts:billing_information"), billing).status_code == 302

    changes = AuditLog.objects.filter(pk__gt=start.pk, action__in=["create", "update", "delete"])
    kinds = {(row.object_type.model, row.action) for row in changes}
    assert kinds == {
        ("community", "create"),
        ("community", "update"),
        ("propertymanager", "create"),
        ("propertymanagerassignment", "create"),
        ("subaccount", "delete"),
        ("billinginformation", "create"),
    }
    assert all((row.user_id, row.actor_id) == (w.distributor_a.pk, w.installer_a.pk) for row in changes)
    assert all(row.installer_id == w.installer_a.pk for row in changes)


@pytest.mark.django_db
def test_distributor_switches_account_access_off_in_edit_installer():
    """The distributor's own way to withdraw: untick Account access in Edit Installer and save.
    A session of the distributor already acting as the installer is released on its next request,
    and "Log in as" is refused from then on."""
    w = build_world(granted=True)
    acting = Client()
    acting.force_login(w.distributor_a)
    assert _acquire(acting, w.installer_a.pk).status_code == 302
    distributor = Client()
    distributor.force_login(w.distributor_a)
    edit_url = reverse("accounts:installer_edit", args=[w.installer_a.pk])
    form = distributor.get(edit_url).context["form"]
    assert form.initial["account_access_enabled"] is True
    # What the browser posts: every enabled field with its value, the checkbox left unticked and
    # the disabled Account field not at all.
    data = {
        name: value
        for name, value in form.initial.items()
        if not form.fields[name].disabled and name != "account_access_enabled"
    }

    response = distributor.post(edit_url, data)

    assert response.status_code == 302, response.context["form"].errors
    w.installer_a.refresh_from_db()
    assert (w.installer_a.username, w.installer_a.account_access_enabled) == ("inst_a", False)
    listing = distributor.get(reverse("accounts:installer_list")).content.decode()
    assert "Log in as: not granted" in listing
    released = acting.get(reverse("communities:dashboard"))
    assert released.status_code == 302 and not _hijacked(acting)
    assert AuditLog.objects.get(action="impersonation_end").changes["reason"][1] == "permission revoked"
    assert _acquire(distributor, w.installer_a.pk).status_code == 403
    assert not _hijacked(distributor)
