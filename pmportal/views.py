"""The Premium controls page of a community and its switches: thin views over the selectors and
`services.premium_control_set`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from communities.models import Community
from smartplus import roles
from smartplus.views.generic import PortalView

from . import selectors, services
from .controls import BY_KEY


class PremiumControlsView(PortalView):
    """The five controls, each a switch; disabled with the reason under Basic or expiry."""

    model = Community
    action = roles.VIEW
    title = _("Premium Controls")

    def get(self, request, community_pk: int):
        community = get_object_or_404(Community.objects.for_actor(request.actor), pk=community_pk)
        self.community = community
        controls = selectors.premium_controls(actor=request.actor, community=community)
        return self.render("pmportal/premium_controls.html", {"community": community, "controls": controls})

    def get_breadcrumbs(self):
        return [
            (self.community.name, reverse("communities:community_detail", args=[self.community.pk])),
            (self.title, None),
        ]


class PremiumControlSetView(PortalView):
    """POST control=<key>&enabled=1|0. The service refuses (403) under Basic or expiry."""

    model = Community
    action = services.USE_PREMIUM
    http_method_names = ["post"]

    def post(self, request, community_pk: int):
        community = get_object_or_404(
            Community.objects.for_actor(request.actor, self.action), pk=community_pk
        )
        control = request.POST.get("control", "")
        enabled = request.POST.get("enabled") in ("1", "on", "true")
        try:
            services.premium_control_set(
                actor=request.actor, community=community, control=control, enabled=enabled
            )
        except ValidationError as exc:
            return HttpResponseBadRequest(" ".join(exc.messages))
        label = BY_KEY[control].label
        if enabled:
            messages.success(request, _("%(control)s is on.") % {"control": label})
        else:
            messages.success(request, _("%(control)s is off.") % {"control": label})
        return HttpResponseRedirect(reverse("pmportal:premium_controls", args=[community.pk]))
