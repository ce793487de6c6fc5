"""Template helpers for the portal layout and the tables' pagination."""

from django import template
from django.conf import settings
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag(takes_context=True)
def hidden_query_inputs(context, *exclude):
    """Hidden inputs carrying the current query string, minus `exclude` (for GET forms)."""
    request = context["request"]
    items = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k not in exclude]
    return format_html_join("", '<input type="hidden" name="{}" value="{}">', items)


@register.simple_tag
def lines_per_page_choices():
    return settings.SMARTPLUS_LINES_PER_PAGE


@register.filter
def bound_field(form, name: str):
    """{{ form|bound_field:"email" }}, for templates that lay out named groups of fields."""
    return form[name]
