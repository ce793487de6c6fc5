"""Mixed-direction text: `{{ device.mac|ltr }}` renders a left-to-right value (MAC, IP, SIP or phone
number, email, code) isolated, so it reads correctly inside a right-to-left (Persian, Hebrew) page."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def ltr(value):
    if value is None or value == "":
        return value
    return format_html('<bdi class="ltr" dir="ltr">{}</bdi>', value)
