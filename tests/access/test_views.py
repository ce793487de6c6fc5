"""Credentials pages: the lists cost the same queries for 3 and 30 rows; export; PM refused personal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access import services
from communities.choices import AccessControlPermission
from communities.models import Community
from tests.factories import build_world, make_apartment
from tests.querycounts import list_query_counts

pytestmark = pytest.mark.django_db


def _add(w, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        apt = make_apartment(
            w.building_a, f"{300 + i}", resident={"first_name": f"R{i}", "last_name": "Test"}
        )
        services.credential_create(
            actor=w.installer_a,
            resident_id=apt.residents.get().pk,
            fields={"kind": "pin", "code": f"{5000 + i}"},
        )


def test_lists_cost_the_same_queries_for_3_and_30_rows(client):
    w = build_world()
    client.force_login(w.installer_a)
    url = reverse("access:community_credentials", args=[w.community_a.pk])
    _add(w, 3)
    few = list_query_counts(client, {"community": (url, {}, 3)})
    _add(w, 27, start=3)
    many = list_query_counts(client, {"community": (url, {"page": 2}, 30)})
    assert few["community"] == many["community"]


def test_export_and_search(client):
    w = build_world()
    _add(w, 2)
    client.force_login(w.pm_a)
    url = reverse("access:community_credentials", args=[w.community_a.pk])
    response = client.get(url, {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.get(url, {"q": "R1"})
    assert "R1 Test" in response.content.decode() and "R0 Test" not in response.content.decode()


def test_pm_under_only_public_area_is_offered_public_devices_only(client):
    w = build_world()
    Community.objects.filter(pk=w.community_a.pk).update(
        access_control_permission=AccessControlPermission.PUBLIC_ONLY
    )
    client.force_login(w.pm_a)
    url = reverse("access:credential_add", args=[w.apartment_a.pk])
    response = client.post(
        url, {"resident": w.member_a.pk, "kind": "pin", "code": "1234", "scope": "private"}
    )
    assert response.status_code == 422
    assert "scope" in response.context["form"].errors


def test_bulk_delete_refuses_credentials_outside_the_communitys_list(client):
    """The list's Delete takes that community's credentials only: the actor's own of another
    community (the service alone would delete them) and another tenant's are 404, nothing deleted."""
    from access.models import Credential
    from tests.factories import make_building

    w = build_world()
    own = services.credential_create(
        actor=w.installer_a, resident_id=w.resident_a.pk, fields={"kind": "pin", "code": "1357"}
    )
    towers = make_apartment(
        make_building(w.community_a2, "Tower 1"), "501", resident={"first_name": "Tia", "last_name": "Towers"}
    )
    elsewhere = services.credential_create(
        actor=w.installer_a, resident_id=towers.residents.get().pk, fields={"kind": "pin", "code": "2468"}
    )
    client.force_login(w.installer_a)
    url = reverse("access:credential_bulk_delete", args=[w.community_a.pk])
    assert client.post(url, {"selection": [own.pk, elsewhere.pk]}).status_code == 404
    client.force_login(w.installer_b)
    url_b = reverse("access:credential_bulk_delete", args=[w.community_b.pk])
    assert client.post(url_b, {"selection": [own.pk]}).status_code == 404
    assert set(Credential.objects.values_list("pk", flat=True)) == {own.pk, elsewhere.pk}
    client.force_login(w.installer_a)
    assert client.post(url, {"selection": [own.pk]}).status_code == 302
    assert list(Credential.objects.values_list("pk", flat=True)) == [elsewhere.pk]
