"""The expiration sweep over 1,000,000 end-user accounts, 10,000 of them due.

Goals: the sweep (the due rows written under their unique key, then the ids of the emails to
send read back) within 3x the set-based SQL floor (the same INSERT … SELECT statements into a
table with no index or constraint: reading the due accounts and writing their rows, nothing
more); and a second sweep right after, which finds nothing due and enqueues 0 emails, within 0.2x
the first.

The accounts are made by SQL (generate_series): 100 communities in 10 time zones from UTC-11 to
UTC+14, 10,000 apartments each, one family master per apartment; one property manager per
community. Half of the accounts not due expire in the coming year, half expired 20 to 700 days
ago; the 10,000 due ones expired 1, 3, 5 or 15 days ago (2,500 each).
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from accounts.choices import Role
from accounts.models import PropertyManagerAssignment, User
from communities.models import Building, Community
from notifications import sweep as sweep_module
from notifications.models import Notification, SweepDay

from .harness import Options, Report, analyze, benchmark, log, timeit_interleaved

COMMUNITIES = 100
PER_COMMUNITY = 10_000
ACCOUNTS = COMMUNITIES * PER_COMMUNITY
DUE_EVERY = 100  # every 100th account is due: 10,000
OFFSETS = (1, 3, 5, 15)
ZONES = [
    "Pacific/Pago_Pago",
    "America/Los_Angeles",
    "America/New_York",
    "UTC",
    "Europe/Paris",
    "Africa/Cairo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Kiritimati",
]
FLOOR_TABLE = "bench_notification_floor"
FLOOR_GOAL = 3.0
SECOND_GOAL = 0.2


def build(now: datetime.datetime) -> None:
    installer = User.objects.create(
        username="bench-installer", email="installer@bench.test", role=Role.INSTALLER, language="en"
    )
    communities = Community.objects.bulk_create(
        Community(
            installer=installer,
            name=f"Bench {c:03d}",
            number_of_apartments=PER_COMMUNITY,
            country="US",
            city="Springfield",
            street="1 Main Street",
            time_zone=ZONES[c % len(ZONES)],
            send_expiration_email=True,
        )
        for c in range(COMMUNITIES)
    )
    Building.objects.bulk_create(Building(community=c, name="Tower") for c in communities)
    managers = User.objects.bulk_create(
        User(
            username=f"pm{c}@bench.test",
            email=f"pm{c}@bench.test",
            role=Role.PROPERTY_MANAGER,
            installer=installer,
        )
        for c in range(COMMUNITIES)
    )
    PropertyManagerAssignment.objects.bulk_create(
        PropertyManagerAssignment(community=c, property_manager=m)
        for c, m in zip(communities, managers, strict=True)
    )
    first = communities[0].pk
    log(f"  {ACCOUNTS:,} apartments and family masters by SQL ...")
    with connection.cursor() as cursor:
        # i from 0: community i / PER_COMMUNITY (ids are consecutive from bulk_create).
        cursor.execute(
            """
            INSERT INTO residents_apartment (created, modified, floor, number, name, web_relay_id,
                call_type, call_mode, family_sip_number, building_id, community_id)
            SELECT %(now)s, %(now)s, NULL, (i %% %(per)s + 1)::text, '', 0, 0, 'ip',
                'B' || lpad(i::text, 9, '0'), b.id, b.community_id
            FROM generate_series(0, %(n)s - 1) i
            JOIN communities_building b ON b.community_id = %(first)s + i / %(per)s
            """,
            {"now": now, "per": PER_COMMUNITY, "n": ACCOUNTS, "first": first},
        )
        # Due: every DUE_EVERY-th apartment, its offset cycling through OFFSETS, an hour past the
        # day so it is due in every zone; the rest a year ahead or 20 to 700 days back.
        cursor.execute(
            """
            INSERT INTO residents_resident (created, modified, first_name, last_name, email, language,
                country, mobile_number, landline1, landline2, landline3, accessible_floors, activated,
                expires_at, app_password, free_family_members, time_zone, apartment_id, community_id,
                family_master_id, account_email_sent_to)
            SELECT %(now)s, %(now)s, 'Bench', a.number, 'r' || a.id || '@bench.test', 'en', '', '', '',
                '', '', '', true,
                CASE
                    WHEN a.id %% %(every)s = 0 THEN %(now)s - make_interval(
                        days => (%(offsets)s::int[])[(a.id / %(every)s) %% 4 + 1], hours => 1)
                    WHEN a.id %% 2 = 0 THEN %(now)s + make_interval(days => 1 + (a.id %% 365)::int)
                    ELSE %(now)s - make_interval(days => 20 + (a.id %% 680)::int)
                END,
                '', 0, '', a.id, a.community_id, NULL, ''
            FROM residents_apartment a
            """,
            {"now": now, "every": DUE_EVERY, "offsets": list(OFFSETS)},
        )
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        like = f"LIKE {Notification._meta.db_table} INCLUDING DEFAULTS INCLUDING IDENTITY"
        cursor.execute(f"CREATE UNLOGGED TABLE {FLOOR_TABLE} ({like})")
    analyze()


def floor_statements() -> list[str]:
    table = Notification._meta.db_table
    return [
        sweep_module.rule_sql(rule, account_type)
        .replace(f"INSERT INTO {table} (", f"INSERT INTO {FLOOR_TABLE} (", 1)
        .replace("ON CONFLICT DO NOTHING", "")
        for rule, account_type in sweep_module._statements()
    ]


@benchmark("notifications")
def notifications(report: Report, options: Options) -> None:
    """Expiration sweep over 1,000,000 accounts (10,000 due) vs the SQL floor; a second sweep."""
    now = timezone.now()
    log("  building accounts ...")
    build(now)
    statements = floor_statements()
    all_communities = list(Community.objects.values_list("pk", flat=True))
    results = []

    def reset():
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {Notification._meta.db_table}, {SweepDay._meta.db_table}, {FLOOR_TABLE}"
            )

    def first_sweep():
        results.append(sweep_module.sweep(now=now, enqueue=False))

    def floor():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, {"now": now, "created": now, "communities": all_communities})

    repeat = min(options.repeat, 7)
    timings = timeit_interleaved(
        {"sweep": first_sweep, "floor": floor}, repeat=repeat, warmup=1, before=reset
    )
    first = results[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {FLOOR_TABLE}")
        floor_rows = cursor.fetchone()[0]
    report.add(
        "due rows written (sweep / floor)",
        f"{first.created:,} / {floor_rows:,}",
        "equal",
        first.created == floor_rows,
    )
    report.add("emails enqueued by the first sweep", f"{first.enqueued:,}")
    report.add("first sweep", timings["sweep"].figure)
    report.add("set-based SQL floor", timings["floor"].figure)
    report.ratio("first sweep / floor", timings["sweep"], timings["floor"], FLOOR_GOAL)

    # The rows of the last first sweep stay: a second sweep finds them all written.
    reset()
    first_sweep()
    seconds = []

    def second_sweep():
        seconds.append(sweep_module.sweep(now=now + datetime.timedelta(minutes=5), enqueue=False))

    again = timeit_interleaved({"second": second_sweep}, repeat=repeat, warmup=1)["second"]
    written = sum(r.created for r in seconds)
    enqueued = sum(r.enqueued for r in seconds)
    seconds.clear()
    report.add("second sweep", again.figure)
    report.add(
        "second sweep: rows written, emails", f"{written} / {enqueued}", "0 / 0", written == enqueued == 0
    )
    report.ratio("second / first sweep", again, timings["sweep"], SECOND_GOAL)

    # Without the day marks a second sweep reads the due accounts again and every row conflicts:
    # what the marks save (a figure, no goal).
    def clear_marks():
        SweepDay.objects.all().delete()

    unmarked = timeit_interleaved({"unmarked": second_sweep}, repeat=repeat, warmup=1, before=clear_marks)
    report.add("second sweep without the day marks", unmarked["unmarked"].figure)
    report.add(
        "  … rows written, emails",
        f"{sum(r.created for r in seconds)} / {sum(r.enqueued for r in seconds)}",
        "0 / 0",
        not any(r.created or r.enqueued for r in seconds),
    )
    if options.verbose:
        from .harness import capture_queries, format_queries

        queries = capture_queries(lambda: sweep_module.sweep(now=now, enqueue=False))
        report.note("second sweep's queries:\n" + format_queries(queries))
        reset()  # the first sweep's statements, on an empty table
        communities = list(Community.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            for rule, account_type in sweep_module._statements():
                sql = sweep_module.rule_sql(rule, account_type)
                params = {"now": now, "created": now, "communities": communities}
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                report.note(f"{rule} {account_type}:\n{plan}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
