"""`actor|may_act_as:installer`: the Log in as button asks the impersonation rule itself."""

from django import template

from accounts import impersonation

register = template.Library()


@register.filter
def may_act_as(actor, installer) -> bool:
    return impersonation.may_act_as(actor, installer)
