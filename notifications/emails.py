"""The notification emails, HTML and text, in the recipient's language: what one group of rows
(one recipient, community, kind and day) says."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import dateformat, translation

from accounts.models import CustomerService, PropertyManagerAssignment, User
from communities.choices import ChargeMode
from communities.models import Community
from residents.models import Resident

from .choices import AccountType, Kind, Recipient
from .links import renew_url


@dataclass
class Email:
    subject: str
    message: EmailMultiAlternatives


def _zone(community) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(community.time_zone or "UTC")
    except zoneinfo.ZoneInfoNotFoundError:
        return zoneinfo.ZoneInfo("UTC")


def community_date(value: datetime.datetime | None, community) -> str:
    """The calendar date of `value` in the community's time zone and Date Format."""
    if value is None:
        return "--"
    return dateformat.format(value.astimezone(_zone(community)).date(), community.date_format)


def contact(installer_id: int) -> dict:
    """The installer's Customer Service contact (end users are sent there), else its own email."""
    service = CustomerService.objects.filter(installer_id=installer_id).first()
    if service is not None:
        return {"email": service.email, "phone": service.phone}
    installer = User.objects.filter(pk=installer_id).values("email", "phone").first() or {}
    return {"email": installer.get("email", ""), "phone": installer.get("phone", "")}


def _accounts(rows, community) -> list[dict]:
    """One line per account the rows name: where it is, whose it is, when it expired."""
    residents = Resident.objects.select_related("apartment__building").in_bulk(
        [r.account_id for r in rows if r.account_type == AccountType.APP]
    )
    assignments = PropertyManagerAssignment.objects.select_related("property_manager").in_bulk(
        [r.account_id for r in rows if r.account_type == AccountType.PM_APP]
    )
    lines, seen = [], set()
    for row in rows:
        key = (row.account_type, row.account_id)
        if key in seen:
            continue
        seen.add(key)
        line = {
            "type": row.account_type,
            "id": row.account_id,
            "expiry": community_date(row.expires_at, community),
        }
        current = None
        if row.account_type == AccountType.APP and row.account_id in residents:
            current = residents[row.account_id].expires_at
        elif row.account_type == AccountType.PM_APP and row.account_id in assignments:
            current = assignments[row.account_id].app_expires_at
        if row.kind == Kind.EXPIRATION and current != row.expires_at:
            continue  # renewed (or deleted) since the sweep: no longer expired
        if row.account_type == AccountType.APP and row.account_id in residents:
            resident = residents[row.account_id]
            line.update(
                building=resident.apartment.building.name,
                apartment=resident.apartment.number,
                name=resident.display_name,
            )
        elif row.account_type == AccountType.PM_APP and row.account_id in assignments:
            line.update(
                building="", apartment="", name=assignments[row.account_id].property_manager.display_name
            )
        lines.append(line)
    lines.sort(key=lambda line: (line["building"], line["apartment"], line["name"]))
    return lines


def _greeting_name(row) -> str:
    if row.recipient_role == Recipient.END_USER and row.account_type == AccountType.APP:
        resident = Resident.objects.filter(pk=row.account_id).first()
        return resident.display_name if resident else ""
    user = User.objects.filter(email__iexact=row.recipient_email).first()
    return user.display_name if user else ""


def _render(template: str, context: dict, language: str) -> tuple[str, str, str]:
    with translation.override(language or "en"):
        subject = " ".join(render_to_string(f"notifications/email/{template}_subject.txt", context).split())
        text = render_to_string(f"notifications/email/{template}_message.txt", context)
        html = render_to_string(f"notifications/email/{template}_message.html", context)
    return subject, text, html


def _message(subject: str, text: str, html: str, to: str, reply_to: list[str] | None = None) -> Email:
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], reply_to=reply_to)
    message.attach_alternative(html, "text/html")
    return Email(subject=subject, message=message)


def expiration_email(rows) -> Email | None:
    """The email of one group of expiration rows; None when every account is gone."""
    head = rows[0]
    community = Community.objects.filter(pk=head.community_id).first()
    if community is None:
        return None
    accounts = _accounts(rows, community)
    if not accounts:
        return None
    link, service = "", {}
    pays = head.recipient_role == Recipient.INSTALLER or (
        head.recipient_role == Recipient.PROPERTY_MANAGER and community.charge_mode == ChargeMode.PAY_BY_PM
    )
    if pays:
        link = renew_url(community.pk, [(a["type"], a["id"]) for a in accounts])
    else:
        service = contact(community.installer_id)
    context = {
        "name": _greeting_name(head),
        "community": community.name,
        "accounts": accounts,
        "end_user": head.recipient_role == Recipient.END_USER,
        "expiry": accounts[0]["expiry"],
        "renew_url": link,
        "service_email": service.get("email", ""),
        "service_phone": service.get("phone", ""),
    }
    return _message(*_render("expiration", context, head.language), head.recipient_email)


def renewal_email(rows) -> Email | None:
    head = rows[0]
    community = Community.objects.filter(pk=head.community_id).first()
    if community is None:
        return None
    context = {
        "name": _greeting_name(head),
        "community": community.name,
        "expiry": community_date(head.expires_at, community),
    }
    return _message(*_render("renewal", context, head.language), head.recipient_email)


def feedback_email(rows) -> Email:
    """End-user feedback for the installer's Customer Service, in the installer's language; a
    reply goes to the end user."""
    head = rows[0]
    context = dict(head.payload)
    subject, body, html = _render("feedback", context, head.language)
    reply_to = [context["email"]] if context.get("email") else None
    return _message(subject, body, html, head.recipient_email, reply_to=reply_to)


RENDERERS = {Kind.EXPIRATION: expiration_email, Kind.RENEWAL: renewal_email, Kind.FEEDBACK: feedback_email}
