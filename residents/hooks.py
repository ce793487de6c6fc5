"""What the apps above residents add to its pages and writes, filled in their AppConfig.ready().

Layers point one way (communities → residents → devices): residents names no app above it. An
apartment's devices, the Basic plan's indoor monitor and the device counter are the devices
app's, so they reach the apartment pages and services through these registries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartplus.hooks import register as register  # the apps above call hooks.register


@dataclass(frozen=True)
class Requirement:
    """Something a new apartment of a community must come with (Basic: an indoor monitor).
    `key` is what a caller passes in `provided` when it adds that thing in the same transaction."""

    key: str
    field: str
    message: str


@dataclass(frozen=True)
class ApartmentAdd:
    """Another Add APT dialog for a community: its form class (an ApartmentForm) and the service
    that writes it, `create(*, actor, building, form) -> Apartment`."""

    form_class: type
    create: Callable


# (community) -> Requirement | None
apartment_requirements: list[Callable] = []
# (community) -> ApartmentAdd | None
apartment_add_dialogs: list[Callable] = []
# (actor, apartment) -> dict: context of the apartment page (its devices, its cameras)
apartment_panels: list[Callable] = []
# (apartment) -> list[str]: what deleting the apartment deletes besides its own rows
apartment_deletion_summaries: list[Callable] = []
# (apartment) -> None, inside the transaction before the apartment is deleted (counters)
apartment_deleting: list[Callable] = []
# (apartment) -> None, inside the transaction after the apartment moved to another building
apartment_moved: list[Callable] = []
# (apartment) -> dict of what was removed to its count, inside the reset's transaction before the
# family members' accounts are deleted (access: PINs removed, the members' RF cards kept; logs:
# the APT's door log, call history and captured images, the audit log stays).
apartment_resetting: list[Callable] = []
# (residents queryset) -> None, inside the transaction before those end users are deleted.
residents_deleting: list[Callable] = []
# (community_id) -> dict of Community counter fields to their recounted values
community_recounts: list[Callable] = []


def requirements(community) -> list[Requirement]:
    return [r for hook in apartment_requirements if (r := hook(community)) is not None]


def apartment_add_dialog(community) -> ApartmentAdd | None:
    for hook in apartment_add_dialogs:
        dialog = hook(community)
        if dialog is not None:
            return dialog
    return None
