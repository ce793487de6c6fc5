"""factory_boy factories and the fixture world every access test runs against."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from accounts.choices import Role
from accounts.models import PropertyManagerAssignment, User
from communities.models import Community

PASSWORD = "correct-horse-battery"

# A valid POST of the New Community form; tests override what they exercise.
COMMUNITY_FORM = {
    "name": "Luna",
    "number_of_apartments": 50,
    "feature_plan": "premium",
    "country": "US",
    "state": "TX",
    "city": "Austin",
    "post_code": "78701",
    "street": "1 Congress Ave",
    "time_zone": "America/Chicago",
    "time_format": "24h",
    "date_format": "Y-m-d",
    "access_control_permission": "public_private",
    "pin_mode": "pin",
    "charge_mode": "installer",
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    role = Role.INSTALLER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class DistributorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"distributor{n}")
    role = Role.DISTRIBUTOR


class InstallerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"installer{n}")
    role = Role.INSTALLER
    distributor = factory.SubFactory(DistributorFactory)


class SubInstallerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"sub{n}")
    role = Role.SUB_INSTALLER
    installer = factory.SubFactory(InstallerFactory)


class PropertyManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"pm{n}@example.test")
    email = factory.LazyAttribute(lambda o: o.username)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Manager"
    role = Role.PROPERTY_MANAGER
    installer = factory.SubFactory(InstallerFactory)


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    installer = factory.SubFactory(InstallerFactory)
    name = factory.Sequence(lambda n: f"Community{n}")
    country = "US"
    city = "Springfield"
    street = "1 Main Street"
    post_code = "12345"


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyManagerAssignment

    community = factory.SubFactory(CommunityFactory)
    property_manager = factory.SubFactory(PropertyManagerFactory)


@dataclass
class World:
    """Two tenants (A and B) and every kind of account around them."""

    distributor_a: User
    distributor_other: User
    installer_a: User
    installer_b: User
    sub_a: User
    pm_a: User
    pm_nothing: User
    superuser: User
    community_a: Community
    community_a2: Community
    community_b: Community
    assignment_a: PropertyManagerAssignment
    pm_b: User


def build_world(*, granted: bool = False) -> World:
    distributor_a = DistributorFactory(username="dist_a")
    distributor_other = DistributorFactory(username="dist_other")
    installer_a = InstallerFactory(
        username="inst_a", distributor=distributor_a, account_access_enabled=True, permission_granted=granted
    )
    installer_b = InstallerFactory(
        username="inst_b", distributor=distributor_other, account_access_enabled=True, permission_granted=True
    )
    sub_a = SubInstallerFactory(username="helper_sam", installer=installer_a)
    pm_a = PropertyManagerFactory(username="pm_a@example.test", installer=installer_a, first_name="Alice")
    pm_nothing = PropertyManagerFactory(
        username="pm_none@example.test", installer=installer_a, first_name="Nora"
    )
    pm_b = PropertyManagerFactory(username="pm_b@example.test", installer=installer_b, first_name="Bob")
    community_a = CommunityFactory(installer=installer_a, name="Alpha Gardens")
    community_a2 = CommunityFactory(installer=installer_a, name="Alpha Towers")
    community_b = CommunityFactory(installer=installer_b, name="Bravo Heights")
    assignment_a = AssignmentFactory(community=community_a, property_manager=pm_a)
    AssignmentFactory(community=community_b, property_manager=pm_b)
    superuser = UserFactory(username="root", role=Role.SUPER_MANAGER, is_superuser=True, is_staff=True)
    return World(
        distributor_a=distributor_a,
        distributor_other=distributor_other,
        installer_a=installer_a,
        installer_b=installer_b,
        sub_a=sub_a,
        pm_a=pm_a,
        pm_nothing=pm_nothing,
        superuser=superuser,
        community_a=community_a,
        community_a2=community_a2,
        community_b=community_b,
        assignment_a=assignment_a,
        pm_b=pm_b,
    )
