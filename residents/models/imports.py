"""Uploads of the residents and devices template into a community."""

from __future__ import annotations

from django.db import models

from communities.models import Community
from smartplus.models import ImportJob


class ResidentImport(ImportJob):
    """The community's "import": buildings, apartments, residents and devices from one template."""

    scope_root = "community"
    scope_path = "community"
    # The template creates devices too: the app above this one names its importer (in its ready()).
    importer = ""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="imports")

    class Meta(ImportJob.Meta):
        verbose_name = "residents and devices import"
