"""The expiration sweep: the due notifications of every rule, as rows, by set-based queries; then
the rows not sent yet, one id per email, handed to the send tasks in chunks.

PostgreSQL: one INSERT … SELECT … ON CONFLICT DO NOTHING per rule and account type, the calendar
days computed in SQL in each community's time zone (AT TIME ZONE). Other databases (the SQLite
demo): one query per rule and distinct community time zone, the day bounds computed in Python.
Either way no loop over accounts and no query per account.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import PropertyManagerAssignment, User
from communities.models import Community
from residents.models import Resident

from .choices import AccountType, Kind, Recipient, Status
from .models import Notification, SweepDay
from .rules import CATCH_UP_DAYS, Rule, rules_for

# Ids per send task: each task sends at most this many emails, so no task holds a whole sweep.
CHUNK = 100
# A row still pending this long after it was written lost its task (a worker died, the broker
# dropped it): the next sweep sends it again. Failed rows get further rounds after the task's own
# retries, up to MAX_ATTEMPTS sends.
STALE_AFTER = datetime.timedelta(minutes=15)
FAILED_RETRY_AFTER = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 10


@dataclass
class SweepResult:
    created: int
    enqueued: int


def sweep(*, now: datetime.datetime | None = None, enqueue: bool = True) -> SweepResult:
    """Write the due rows (a second sweep writes none: the key is unique) and enqueue the sends."""
    started = timezone.now()  # the rows' `created`: what this sweep wrote, and what went stale
    now = now or started  # what day it is in each community
    if connection.vendor == "postgresql":
        created = _insert_due_postgresql(now, started)
    else:
        created = _insert_due_portable(now, started)
    ids = unsent_group_ids(clock=started, fresh_since=started if created else None)
    if enqueue and ids:
        from smartplus.celery import fan_out

        from .tasks import send_notifications

        fan_out(send_notifications, [[ids[i : i + CHUNK]] for i in range(0, len(ids), CHUNK)])
    return SweepResult(created=created, enqueued=len(ids))


def unsent_group_ids(*, clock: datetime.datetime, fresh_since=None) -> list[int]:
    """One row id per email that is due to go out: the rows this sweep wrote (`created` from
    `fresh_since`), pending rows whose task was lost, and failed rows due another round."""
    due = Q(status=Status.PENDING, created__lt=clock - STALE_AFTER) | Q(
        status=Status.FAILED, attempts__lt=MAX_ATTEMPTS, updated__lt=clock - FAILED_RETRY_AFTER
    )
    if fresh_since is not None:
        due |= Q(status=Status.PENDING, created__gte=fresh_since)
    rows = (
        Notification.objects.filter(~Q(status=Status.SENT), due)
        .values("group_key")
        .annotate(head=Min("pk"))
        .order_by("head")
    )
    return [row["head"] for row in rows]


# --- PostgreSQL: the days in SQL ------------------------------------------------------------------

# What each account type's rows are read from: the table, its expiry column, the "is a paid
# account" condition and the holder's email and language (the END_USER recipient).
_ACCOUNTS = {
    AccountType.APP: {
        "from": f"{Resident._meta.db_table} acc",
        "expiry": "acc.expires_at",
        "where": "acc.family_master_id IS NULL AND acc.activated AND acc.expires_at IS NOT NULL",
        "holder_join": "",
        "holder_email": "acc.email",
        "holder_language": "acc.language",
    },
    AccountType.PM_APP: {
        "from": f"{PropertyManagerAssignment._meta.db_table} acc",
        "expiry": "acc.app_expires_at",
        "where": "acc.app_activated AND acc.app_enabled AND acc.app_expires_at IS NOT NULL",
        "holder_join": f"JOIN {User._meta.db_table} h ON h.id = acc.property_manager_id AND h.is_active",
        "holder_email": "h.email",
        "holder_language": "h.language",
    },
}
_RECIPIENT_JOINS = {
    Recipient.END_USER: ("", "{holder_email}", "{holder_language}"),
    Recipient.PROPERTY_MANAGER: (
        f"JOIN {PropertyManagerAssignment._meta.db_table} pa ON pa.community_id = c.id "
        f"JOIN {User._meta.db_table} u ON u.id = pa.property_manager_id AND u.is_active",
        "u.email",
        "u.language",
    ),
    Recipient.INSTALLER: (f"JOIN {User._meta.db_table} u ON u.id = c.installer_id", "u.email", "u.language"),
}


def rule_sql(rule: Rule, account_type: str) -> str:
    """The INSERT … SELECT of one rule for one account type; parameters %(now)s (the day),
    %(created)s (the sweep's clock) and %(communities)s (those not swept yet on their day)."""
    source = _ACCOUNTS[account_type]
    join, email, language = _RECIPIENT_JOINS[rule.recipient]
    email = email.format(**source)
    language = language.format(**source)
    expiry = source["expiry"]
    first, last = rule.offset_days, rule.offset_days + CATCH_UP_DAYS - 1
    local_today = "(%(now)s AT TIME ZONE c.time_zone)::date"
    switch = "AND c.send_expiration_email" if rule.needs_switch else ""
    return f"""
        INSERT INTO {Notification._meta.db_table} (
            kind, account_type, account_id, expires_at, offset_days, recipient_email,
            recipient_role, language, reference, community_id, installer_id, local_day, group_key,
            subject, status, attempts, last_error, payload, created, updated)
        SELECT '{Kind.EXPIRATION}', '{account_type}', acc.id, {expiry}, {rule.offset_days},
            lower({email}), '{rule.recipient}', {language}, 0, c.id, c.installer_id, {local_today},
            concat_ws('|', '{Kind.EXPIRATION}', c.id, {local_today}, lower({email})),
            '', '{Status.PENDING}', 0, '', '{{}}', %(created)s, %(created)s
        FROM {source["from"]}
        JOIN {Community._meta.db_table} c ON c.id = acc.community_id
        {source["holder_join"]}
        {join}
        WHERE {source["where"]} {switch}
          AND c.id = ANY(%(communities)s)
          AND {email} <> ''
          -- a bound the expiry index can use, wider than any time zone's day (DST included)
          AND {expiry} > %(now)s - interval '{last + 2} days'
          AND {expiry} < %(now)s - interval '{first - 2} days'
          AND {local_today} - ({expiry} AT TIME ZONE c.time_zone)::date BETWEEN {first} AND {last}
        ON CONFLICT DO NOTHING
    """


def _statements() -> list[tuple[Rule, str]]:
    """Every (rule, account type): the switch is a condition in SQL, so all rules run."""
    return [(rule, t) for rule in rules_for(switch_on=True) for t in rule.account_types]


_UNSWEPT_SQL = f"""
    SELECT c.id FROM {Community._meta.db_table} c
    WHERE NOT EXISTS (
        SELECT 1 FROM {SweepDay._meta.db_table} s
        WHERE s.community_id = c.id AND s.local_day = (%(now)s AT TIME ZONE c.time_zone)::date)
"""
_MARK_SQL = f"""
    INSERT INTO {SweepDay._meta.db_table} (community_id, local_day, created)
    SELECT c.id, (%(now)s AT TIME ZONE c.time_zone)::date, %(created)s
    FROM {Community._meta.db_table} c WHERE c.id = ANY(%(communities)s)
    ON CONFLICT DO NOTHING
"""


def _insert_due_postgresql(now: datetime.datetime, started: datetime.datetime) -> int:
    """The communities whose day is not swept yet, their due rows, then their day marked (after
    the rows: a sweep that dies half-way leaves the day to the next one)."""
    created = 0
    with connection.cursor() as cursor:
        cursor.execute(_UNSWEPT_SQL, {"now": now})
        communities = [row[0] for row in cursor.fetchall()]
        if not communities:
            return 0
        params = {"now": now, "created": started, "communities": communities}
        for rule, account_type in _statements():
            cursor.execute(rule_sql(rule, account_type), params)
            created += cursor.rowcount
        cursor.execute(_MARK_SQL, params)
    return created


# --- Other databases: the day bounds per time zone in Python --------------------------------------


def _day_start(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)


def _accounts(account_type: str):
    if account_type == AccountType.APP:
        return Resident.objects.filter(
            family_master__isnull=True, activated=True, expires_at__isnull=False
        ).values_list("pk", "community_id", "expires_at", "email", "language")
    return PropertyManagerAssignment.objects.filter(
        app_activated=True, app_enabled=True, app_expires_at__isnull=False, property_manager__is_active=True
    ).values_list(
        "pk", "community_id", "app_expires_at", "property_manager__email", "property_manager__language"
    )


def _expiry_field(account_type: str) -> str:
    return "expires_at" if account_type == AccountType.APP else "app_expires_at"


def _insert_due_portable(now: datetime.datetime, started: datetime.datetime) -> int:
    communities = {
        c["pk"]: c
        for c in Community.objects.values("pk", "time_zone", "installer_id", "send_expiration_email")
    }
    installers = dict(
        User.objects.filter(is_active=True, communities__isnull=False).values_list("pk", "email")
    )
    installer_languages = dict(User.objects.filter(pk__in=installers).values_list("pk", "language"))
    managers: dict[int, list[tuple[str, str]]] = {}
    for community_id, email, language in PropertyManagerAssignment.objects.filter(
        property_manager__is_active=True
    ).values_list("community_id", "property_manager__email", "property_manager__language"):
        managers.setdefault(community_id, []).append((email, language))
    rows: list[Notification] = []
    marks: list[SweepDay] = []
    swept = set(SweepDay.objects.values_list("community_id", "local_day"))
    for zone_name in sorted({c["time_zone"] for c in communities.values()}):
        try:
            zone = zoneinfo.ZoneInfo(zone_name or "UTC")
        except zoneinfo.ZoneInfoNotFoundError:
            zone = zoneinfo.ZoneInfo("UTC")
        today = now.astimezone(zone).date()
        unswept = [
            pk for pk, c in communities.items() if c["time_zone"] == zone_name and (pk, today) not in swept
        ]
        if not unswept:
            continue
        marks.extend(SweepDay(community_id=pk, local_day=today) for pk in unswept)
        for rule, account_type in _statements():
            last_expiry_day = today - datetime.timedelta(days=rule.offset_days)
            first_expiry_day = last_expiry_day - datetime.timedelta(days=CATCH_UP_DAYS - 1)
            field = _expiry_field(account_type)
            accounts = _accounts(account_type).filter(
                community__in=unswept,
                **{
                    f"{field}__gte": _day_start(first_expiry_day, zone),
                    f"{field}__lt": _day_start(last_expiry_day + datetime.timedelta(days=1), zone),
                },
            )
            if rule.needs_switch:
                accounts = accounts.filter(community__send_expiration_email=True)
            for account_id, community_id, expires_at, holder_email, holder_language in accounts:
                community = communities[community_id]
                if rule.recipient == Recipient.END_USER:
                    recipients = [(holder_email, holder_language)]
                elif rule.recipient == Recipient.PROPERTY_MANAGER:
                    recipients = managers.get(community_id, [])
                else:
                    installer_id = community["installer_id"]
                    recipients = [
                        (installers.get(installer_id, ""), installer_languages.get(installer_id, "en"))
                    ]
                for email, language in recipients:
                    if not email:
                        continue
                    email = email.lower()
                    rows.append(
                        Notification(
                            kind=Kind.EXPIRATION,
                            account_type=account_type,
                            account_id=account_id,
                            expires_at=expires_at,
                            offset_days=rule.offset_days,
                            recipient_email=email,
                            recipient_role=rule.recipient,
                            language=language or "en",
                            community_id=community_id,
                            installer_id=community["installer_id"],
                            local_day=today,
                            group_key=f"{Kind.EXPIRATION}|{community_id}|{today.isoformat()}|{email}",
                            created=started,
                            updated=started,
                        )
                    )
    before = Notification.objects.count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    SweepDay.objects.bulk_create(marks, ignore_conflicts=True)
    return Notification.objects.count() - before
