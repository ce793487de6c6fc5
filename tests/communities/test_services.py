"""Community rules, each tested where it lives (communities.services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communities import services
from communities.choices import AccessControlPermission, ChargeMode, FeaturePlan
from communities.models import Community
from tests.factories import CommunityFactory, DistributorFactory, InstallerFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"country": "US", "city": "Austin", "street": "1 Congress Ave"}


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


def test_create_uses_the_spec_defaults():
    installer = InstallerFactory()
    c = services.community_create(actor=installer, name="Defaults", **ADDRESS)
    assert c.number_of_apartments == 50
    assert c.feature_plan == FeaturePlan.PREMIUM
    assert c.access_control_permission == AccessControlPermission.PUBLIC_AND_PRIVATE
    assert c.charge_mode == ChargeMode.PAY_BY_INSTALLER
    assert (c.home_automation, c.landline_service, c.community_calls) == (False, False, False)
    assert c.installer == installer


def test_feature_plan_cannot_change_once_set():
    c = CommunityFactory(feature_plan=FeaturePlan.BASIC)
    with pytest.raises(ValidationError) as exc:
        services.community_update(actor=c.installer, community=c, feature_plan=FeaturePlan.PREMIUM)
    assert "feature_plan" in _errors(exc)
    c.refresh_from_db()
    assert c.feature_plan == FeaturePlan.BASIC


def test_access_control_permission_cannot_change_once_set():
    c = CommunityFactory()
    with pytest.raises(ValidationError) as exc:
        services.community_update(
            actor=c.installer, community=c, access_control_permission=AccessControlPermission.PUBLIC_ONLY
        )
    assert "access_control_permission" in _errors(exc)


def test_super_manager_may_change_immutable_settings(world):
    c = world.community_a
    services.community_update(
        actor=world.superuser,
        community=c,
        feature_plan=FeaturePlan.BASIC,
        access_control_permission=AccessControlPermission.PUBLIC_ONLY,
    )
    c.refresh_from_db()
    assert (c.feature_plan, c.access_control_permission) == (
        FeaturePlan.BASIC,
        AccessControlPermission.PUBLIC_ONLY,
    )


def test_home_automation_cannot_be_turned_off_once_on():
    c = CommunityFactory(home_automation=True)
    with pytest.raises(ValidationError) as exc:
        services.community_update(actor=c.installer, community=c, home_automation=False)
    assert "home_automation" in _errors(exc)


def test_home_automation_can_be_turned_on():
    c = CommunityFactory()
    services.community_update(actor=c.installer, community=c, home_automation=True)
    c.refresh_from_db()
    assert c.home_automation


@pytest.mark.parametrize("create", [True, False])
def test_landline_service_is_unavailable_with_home_automation(create):
    installer = InstallerFactory()
    with pytest.raises(ValidationError) as exc:
        if create:
            services.community_create(
                actor=installer, name="X", home_automation=True, landline_service=True, **ADDRESS
            )
        else:
            c = CommunityFactory(installer=installer, home_automation=True)
            services.community_update(actor=installer, community=c, landline_service=True)
    assert "not available for Home Automation" in _errors(exc)["landline_service"][0]
    assert not Community.objects.filter(landline_service=True).exists()


def test_community_calls_need_the_distributor_switch():
    installer = InstallerFactory(distributor=DistributorFactory(community_calls_enabled=False))
    with pytest.raises(ValidationError) as exc:
        services.community_create(actor=installer, name="Calls", community_calls=True, **ADDRESS)
    assert "community_calls" in _errors(exc)

    enabled = InstallerFactory(distributor=DistributorFactory(community_calls_enabled=True))
    c = services.community_create(actor=enabled, name="Calls", community_calls=True, **ADDRESS)
    assert c.community_calls


@pytest.mark.parametrize("post_code", ["12-34", "SW1A 1AA", "ab#1", "é1"])
def test_post_code_accepts_only_letters_and_digits(post_code):
    with pytest.raises(ValidationError) as exc:
        services.community_create(actor=InstallerFactory(), name="P", post_code=post_code, **ADDRESS)
    assert "post_code" in _errors(exc)


def test_post_code_letters_and_digits_are_fine():
    c = services.community_create(actor=InstallerFactory(), name="P", post_code="SW1A1AA", **ADDRESS)
    assert c.post_code == "SW1A1AA"


@pytest.mark.parametrize("number", [0, 10001])
def test_number_of_apartments_is_bounded(number):
    with pytest.raises(ValidationError) as exc:
        services.community_create(actor=InstallerFactory(), name="N", number_of_apartments=number, **ADDRESS)
    assert "number_of_apartments" in _errors(exc)


def test_name_is_unique_per_installer_case_insensitively():
    installer = InstallerFactory()
    CommunityFactory(installer=installer, name="Luna")
    with pytest.raises(ValidationError) as exc:
        services.community_create(actor=installer, name="luna", **ADDRESS)
    assert "already have a community with this name" in str(exc.value)
    # Another installer may use the same name.
    assert services.community_create(actor=InstallerFactory(), name="Luna", **ADDRESS).name == "Luna"


@pytest.mark.parametrize("field", ["name", "city", "street", "country"])
def test_required_fields(field):
    data = {"name": "R", **ADDRESS, field: ""}
    with pytest.raises(ValidationError) as exc:
        services.community_create(actor=InstallerFactory(), **data)
    assert field in _errors(exc)


def test_roles_without_the_action_are_refused(world):
    with pytest.raises(PermissionDenied):
        services.community_create(actor=world.pm_a, name="PM", **ADDRESS)
    with pytest.raises(PermissionDenied):
        services.community_update(actor=world.pm_a, community=world.community_a, name="PM")
    with pytest.raises(PermissionDenied):
        services.community_create(actor=world.distributor_a, name="D", **ADDRESS)


def test_sub_installer_creates_for_its_installer(world):
    c = services.community_create(actor=world.sub_a, name="By sub", **ADDRESS)
    assert c.installer == world.installer_a


def test_delete_removes_assignments_but_keeps_property_manager(world):
    summary = services.community_deletion_summary(community=world.community_a)
    assert any("1 property manager assignment" in line for line in summary)
    services.community_delete(actor=world.installer_a, community=world.community_a)
    assert not Community.objects.filter(pk=world.community_a.pk).exists()
    world.pm_a.refresh_from_db()
    assert not world.pm_a.pm_assignments.exists()


def test_changes_are_audited_with_the_changed_fields(world):
    from smartplus.audit import AuditContext, audit_context
    from smartplus.models import AuditLog

    token = audit_context.set(AuditContext(world.sub_a.pk, "helper_sam", world.sub_a.pk, "helper_sam"))
    try:
        services.community_update(actor=world.sub_a, community=world.community_a, city="Dallas")
    finally:
        audit_context.reset(token)
    row = AuditLog.objects.get(action="update", object_id=str(world.community_a.pk))
    assert row.changes == {"city": ["Springfield", "Dallas"]}
    assert (row.user_id, row.installer_id) == (world.sub_a.pk, world.installer_a.pk)
