from django import template

from communities.formatting import community_datetime

register = template.Library()


@register.filter
def community_dt(value, community):
    """{{ resident.created|community_dt:community }}: in the community's zone and formats."""
    return community_datetime(value, community)
