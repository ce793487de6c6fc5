"""`actor|can:"app.model:action"`: show a button only when roles.py grants the action."""

from django import template

from smartplus import roles

register = template.Library()


@register.filter
def can(actor, spec: str) -> bool:
    label, _, action = spec.partition(":")
    return roles.allows(actor, label, action or roles.VIEW)
