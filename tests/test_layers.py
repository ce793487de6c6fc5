"""The hooks that let a lower layer hear from a higher one (docs/architecture.md, "Layers")."""

from communities.models import Community
from smartplus import roles, scoping


def test_the_apps_tell_scoping_which_communities_each_role_sees(world):
    assert set(Community.objects.for_actor(world.installer_a)) == {world.community_a, world.community_a2}
    assert set(Community.objects.for_actor(world.sub_a)) == {world.community_a, world.community_a2}
    assert list(Community.objects.for_actor(world.pm_a)) == [world.community_a]


def test_a_role_no_app_registered_sees_no_community(world, monkeypatch):
    # Fail closed: without accounts' hook a property manager sees nothing, not everything.
    registry = {k: v for k, v in scoping._community_ids.items() if k != roles.PROPERTY_MANAGER}
    monkeypatch.setattr(scoping, "_community_ids", registry)
    assert list(Community.objects.for_actor(world.pm_a)) == []
    assert set(Community.objects.for_actor(world.installer_a)) == {world.community_a, world.community_a2}
