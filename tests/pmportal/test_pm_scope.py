"""What a property manager may do in its communities, as the PM portal relies on it: delete end
users only with Delete Account Permission (at the service), Subscriptions and Payments only for
Pay By PM communities, Premium Controls in the community's modules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import PropertyManagerAssignment
from communities.choices import ChargeMode
from communities.models import Community
from residents.models import Resident
from residents.services import resident_delete

from .support import client_for

pytestmark = pytest.mark.django_db


def test_deleting_an_end_user_needs_the_delete_account_permission_at_the_service(world):
    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(delete_account_permission=False)
    with pytest.raises(PermissionDenied, match="Delete Account Permission"):
        resident_delete(actor=world.pm_a, resident=world.member_a)
    assert Resident.objects.filter(pk=world.member_a.pk).exists()
    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(delete_account_permission=True)
    resident_delete(actor=world.pm_a, resident=world.member_a)
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()


def test_subscriptions_and_payments_show_for_pay_by_pm_communities_only(world):
    url = reverse("residents:community_residents", args=[world.community_a.pk])
    body = client_for(world.pm_a).get(url).content.decode()
    assert 'data-testid="nav-subscriptions"' not in body and 'data-testid="nav-payments"' not in body
    assert 'data-testid="nav-premium-controls"' in body
    Community.objects.filter(pk=world.community_a.pk).update(charge_mode=ChargeMode.PAY_BY_PM)
    body = client_for(world.pm_a).get(url).content.decode()
    assert 'data-testid="nav-subscriptions"' in body and 'data-testid="nav-payments"' in body
