"""The Rent Manager sync: read a connection's properties from the API, write them through the
communities and residents services, and log every outcome.

- A run gives each property a task of its own (`property_sync`), so the workers sync several at
  once; the property's writes, problems and counts are one transaction, and the last property to
  finish ends the run (`run_finish`). A failure while reading (a 5xx on the 3rd page, a time-out,
  a token that cannot be renewed) or writing rolls the property back; the run's log says which
  property and why, and the next run starts from what is in the database.
- A property becomes a community of the installer, named after it ("[Property Name]-Rent Manager"
  when the installer has that name already), with the spec's defaults; units become apartments in
  an automatic "Building 1" with Rent Manager's floor and name and APT numbers in sequence, each
  with a family master of a generated name; the Primary and Occupant contacts of tenants whose
  lease is current become family members. A lease that ends deletes the member; a unit or tenant
  that disappears is flagged for a person, never deleted.
- Nothing is written when nothing changed: rows are compared first, and only differences go to
  the services.
- The writes run as the connection's installer (the services authorize as for a hand-made
  apartment); the audit shows "Rent Manager sync" as the user.
"""

from __future__ import annotations

import datetime
import functools
import logging
import secrets
import string
from collections import defaultdict
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from communities import services as communities
from communities.choices import AccessControlPermission, FeaturePlan, Integration
from communities.models import Building, Community
from residents import services as residents
from residents.models import Apartment, Resident
from smartplus import audit, bulk, phones
from smartplus.bulk import BulkErrors

from . import locks
from .choices import MEMBER_APPLICANT_TYPES, Kind, Outcome, RunStatus
from .integrations.client import RentManagerClient, RentManagerError
from .models import Connection, ContactLink, PropertyRun, SyncedProperty, SyncProblem, SyncRun, UnitLink

log = logging.getLogger(__name__)

SYNC_USER_NAME = "Rent Manager sync"
BUILDING_NAME = "Building 1"
CLASH_SUFFIX = "-Rent Manager"
DEFAULT_APARTMENTS = 50
NAME_ALPHABET = string.ascii_letters + string.digits
# A member's columns the sync sets, in the order of `PropertySync.member_snapshot`.
MEMBER_COLUMNS = ("first_name", "last_name", "email", "landline1", "country")


def client_for(connection: Connection) -> RentManagerClient:
    return RentManagerClient(
        base_url=connection.base_url,
        username=connection.username,
        password=connection.password(),
        location_id=connection.location_id,
        timeout=settings.SMARTPLUS_RENTMANAGER_TIMEOUT,
        retries=settings.SMARTPLUS_RENTMANAGER_RETRIES,
        backoff=settings.SMARTPLUS_RENTMANAGER_BACKOFF,
        page_size=settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE,
    )


@contextmanager
def sync_actor(installer):
    """The audit's user for everything the sync writes: "Rent Manager sync", acting as the installer."""
    token = audit.audit_context.set(
        audit.AuditContext(None, SYNC_USER_NAME, installer.pk, installer.get_username())
    )
    try:
        with audit.change_set():
            yield
    finally:
        audit.audit_context.reset(token)


class Log:
    """Counts per kind and outcome, and problems, of a run's start or of one property (written
    with the run, or with the property's part)."""

    def __init__(self, run: SyncRun):
        self.run = run
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.problems: list[SyncProblem] = []

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[kind][outcome] += n

    def problem(self, kind: str, rm_id, reason: str, *, outcome=Outcome.FAILED, property_rm_id=None) -> None:
        self.add(kind, outcome)
        self.problems.append(
            SyncProblem(
                run=self.run,
                kind=kind,
                rm_id=str(rm_id or ""),
                reason=str(reason)[:2000],
                outcome=outcome,
                property_rm_id=property_rm_id,
            )
        )

    def not_synced(self, prop: SyncedProperty, reason: str) -> None:
        """The property failed as a whole: nothing of it was written."""
        self.problem(
            Kind.PROPERTY,
            prop.rm_id,
            f"{prop.name}: not synced, nothing changed ({reason}).",
            property_rm_id=prop.rm_id,
        )

    def plain_counts(self) -> dict:
        return {k: dict(v) for k, v in self.counts.items()}


def _messages(exc: Exception) -> str:
    if isinstance(exc, BulkErrors):
        return "; ".join(exc.messages)
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "; ".join(
                f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    return str(exc) or type(exc).__name__


# --- reading -----------------------------------------------------------------------------------


def _date(value) -> datetime.date | None:
    return _iso_date(str(value)[:10]) if value else None


@functools.lru_cache(maxsize=4096)  # a property's leases share a few hundred dates
def _iso_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def lease_is_current(lease: dict, today: datetime.date) -> bool:
    start, end = _date(lease.get("MoveInDate")), _date(lease.get("MoveOutDate"))
    return (start is None or start <= today) and (end is None or end > today)


def _floor(unit: dict) -> int | None:
    floor = unit.get("Floor") or {}
    raw = floor.get("Name") if isinstance(floor, dict) else None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= 128 else None


def _mobile(contact: dict) -> str:
    for number in contact.get("PhoneNumbers") or ():
        kind = (number.get("PhoneNumberType") or {}).get("Name", "")
        if str(kind).lower() in ("mobile", "cell") and number.get("PhoneNumber"):
            return str(number["PhoneNumber"]).strip()
    return ""


NAME_LENGTH = 24
# Random bytes map onto the alphabet without bias: the bytes at or over the last whole multiple
# of its length are dropped (bytes.translate does it in C, not one secrets.choice per letter).
_NAME_TABLE = bytes(ord(NAME_ALPHABET[b % len(NAME_ALPHABET)]) for b in range(256))
_NAME_DROP = bytes(range(256 // len(NAME_ALPHABET) * len(NAME_ALPHABET), 256))


def _random_names(count: int) -> list[str]:
    """`count` generated names of 24 letters and digits (the spec's family masters)."""
    wanted, text = count * NAME_LENGTH, b""
    while len(text) < wanted:
        text += secrets.token_bytes(wanted - len(text) + 64).translate(_NAME_TABLE, _NAME_DROP)
    text = text[:wanted].decode()
    return [text[i : i + NAME_LENGTH] for i in range(0, wanted, NAME_LENGTH)]


def _new(model, values: dict, **related):
    """`model(**related, **values)` for the sync's thousands of new rows, at a tenth of the cost
    (`bulk.blank`): `values` are plain columns, `related` saved (or bulk-created) objects."""
    obj = bulk.blank(model)
    obj.__dict__.update(values)
    bulk.attach(obj, **related)
    return obj


def _hold_name(installer_id: int, name: str) -> None:
    """Until this transaction ends, no other property of the installer synced at the same time
    takes the same community name (the second one then sees the first and is renamed)."""
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"rm-name:{installer_id}:{name.lower()}"]
            )


def _random_name() -> str:
    return _random_names(1)[0]


def _digits_only(number: str) -> str | None:
    """The digits of a number written with digits and the usual separators only (no "+", no
    extension), or None: for such a number phonenumbers reads the digits alone."""
    digits = number.translate(_PHONE_SEPARATORS)
    return digits if digits.isdigit() and digits.isascii() else None


_PHONE_SEPARATORS = str.maketrans("", "", " -().")


# --- the run -------------------------------------------------------------------------------------


def run_create(*, connection: Connection, trigger: str = "schedule") -> SyncRun:
    return SyncRun.objects.create(connection=connection, trigger=trigger[:64])


def run_sync(
    *, connection_id: int, run_id: int | None = None, trigger: str = "schedule", inline: bool = False
) -> SyncRun:
    """Start a run of the connection: list Rent Manager's properties, flag the picked ones it no
    longer lists, and give every other picked property a part (PropertyRun) worked by a task of
    its own, so several properties are synced at once by the workers. The part that finishes last
    ends the run (`run_finish`). `inline`: work the parts here, one after another (a foreground
    sync; tasks run eagerly do the same). Returns the run, ended unless its parts went to workers.
    Called outside a transaction (a task): the parts are committed before a worker reads them."""
    connection = Connection.objects.select_related("installer").get(pk=connection_id)
    if run_id is not None:
        run = SyncRun.objects.get(pk=run_id, connection=connection)
    else:
        run = run_create(connection=connection, trigger=trigger)
    if not SyncRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(status=RunStatus.IN_PROGRESS):
        run.refresh_from_db()
        return run  # started already (a twin of this task) or ended (the reconcile)
    log_ = Log(run)
    try:
        parts = _plan(connection, run, log_)
    except RentManagerError as exc:
        return run_finish(run_id=run.pk, failure=str(exc))
    except Exception as exc:  # the run is logged as failed, whatever broke
        log.exception("Rent Manager sync of connection %s failed", connection_id)
        return run_finish(run_id=run.pk, failure=_messages(exc))
    if isinstance(parts, str):
        return run_finish(run_id=run.pk, message=parts)
    if not parts:
        return run_finish(run_id=run.pk)
    if inline:
        for part in parts:
            property_sync(run_id=run.pk, part_id=part.pk)
    else:
        from smartplus.celery import fan_out

        from .tasks import sync_property_task

        fan_out(sync_property_task, [(run.pk, part.pk) for part in parts])
    run.refresh_from_db()
    return run


def _plan(connection: Connection, run: SyncRun, log_: Log) -> list[PropertyRun] | str:
    """The run's parts, one per picked property Rent Manager lists (or why there are none); the
    others are flagged in the run's own counts and problems."""
    picked = list(connection.properties.order_by("name", "pk"))
    if not picked:
        return "No properties are picked for this connection."
    listed = {p["PropertyID"]: p for p in client_for(connection).properties()}
    for prop in picked:
        if prop.rm_id not in listed:
            log_.problem(
                Kind.PROPERTY,
                prop.rm_id,
                "The property is no longer listed by Rent Manager; its community is kept.",
                outcome=Outcome.FLAGGED,
                property_rm_id=prop.rm_id,
            )
    with transaction.atomic():
        SyncProblem.objects.bulk_create(log_.problems)
        SyncRun.objects.filter(pk=run.pk).update(counts=log_.plain_counts())
        return PropertyRun.objects.bulk_create(
            PropertyRun(run=run, prop=prop, listing=listed[prop.rm_id])
            for prop in picked
            if prop.rm_id in listed
        )


def property_sync(*, run_id: int, part_id: int) -> None:
    """One property of a run: read its units and tenants, then write them, its problems and its
    counts in one transaction that also marks the part finished; ends the run if it was the last
    part. Safe to run twice: a part already finished (or being finished by a twin delivery, whose
    transaction this one waits for) is left alone."""
    part = (
        PropertyRun.objects.select_related("run__connection__installer", "prop__community")
        .filter(pk=part_id, run_id=run_id)
        .first()
    )
    if part is not None and part.finished_at is None and part.run.finished_at is None:
        PropertyRun.objects.filter(pk=part.pk, started_at__isnull=True).update(started_at=timezone.now())
        locks.renew(part.run.connection_id, locks.run_token(run_id))
        # No full garbage collection while a property's pages are read and its tens of thousands
        # of rows made: each one walked every object of the process (a sixth of the sync's CPU).
        with bulk.full_collections_deferred():
            _work(part)
    _finish_if_last(run_id)


def _work(part: PropertyRun) -> None:
    run, prop, connection = part.run, part.prop, part.run.connection
    log_ = Log(run)
    client = client_for(connection)
    try:
        # Every page first: no HTTP (nor its retries) while the property's rows are locked.
        pages = client.units(prop.rm_id), client.tenants(prop.rm_id)
    except RentManagerError as exc:
        pages = None
        log_.not_synced(prop, str(exc))
    try:
        with sync_actor(connection.installer), transaction.atomic():
            if not _claim(part):
                return
            if pages is not None:
                try:
                    with transaction.atomic():
                        PropertySync(connection, prop, part.listing, *pages, log_).run()
                except (ValidationError, PermissionDenied, Http404) as exc:
                    log_.not_synced(prop, _messages(exc))
            _record(part, log_)
    except Exception as exc:  # a lost database, a time limit, a bug: rolled back, and said
        log.exception("Rent Manager sync of property %s failed", prop.pk)
        log_ = Log(run)
        log_.not_synced(prop, _messages(exc))
        with transaction.atomic():
            if _claim(part):
                _record(part, log_)


def _claim(part: PropertyRun) -> bool:
    """Mark the part finished, in the caller's transaction; False if it is already (a twin)."""
    return bool(
        PropertyRun.objects.filter(pk=part.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    )


def _record(part: PropertyRun, log_: Log) -> None:
    SyncProblem.objects.bulk_create(log_.problems)
    PropertyRun.objects.filter(pk=part.pk).update(counts=log_.plain_counts())


def _finish_if_last(run_id: int) -> None:
    """End the run if it is going on, has its parts, and every one of them is finished."""
    parts = PropertyRun.objects.filter(run_id=run_id)
    going = SyncRun.objects.filter(pk=run_id, status=RunStatus.IN_PROGRESS, finished_at__isnull=True)
    if going.exists() and parts.exists() and not parts.filter(finished_at__isnull=True).exists():
        run_finish(run_id=run_id)


def _merged(counts: list[dict]) -> dict:
    total: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for one in counts:
        for kind, outcomes in (one or {}).items():
            for outcome, n in outcomes.items():
                total[kind][outcome] += n
    return {k: dict(v) for k, v in total.items()}


def run_finish(*, run_id: int, failure: str = "", message: str = "") -> SyncRun:
    """End the run once: its counts are its own plus every part's; Failed with `failure`, Partly
    failed when a property or a row failed, else Success. Gives the connection's lock back."""
    run = SyncRun.objects.get(pk=run_id)
    if run.finished_at is None:
        parts = list(PropertyRun.objects.filter(run_id=run_id).values_list("counts", flat=True))
        counts = _merged([run.counts, *parts])
        if failure:
            status = RunStatus.FAILED
        elif run.problems.filter(outcome=Outcome.FAILED).exists():
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.SUCCESS
        ended = SyncRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            status=status, message=failure or message, counts=counts, finished_at=timezone.now()
        )
        if ended:
            locks.release(run.connection_id, locks.run_token(run_id))
        run.refresh_from_db()
    return run


class PropertySync:
    """One property's writes, inside the caller's transaction."""

    def __init__(
        self, connection, prop: SyncedProperty, rm_prop: dict, units: list, tenants: list, log_: Log
    ):
        self.connection, self.prop, self.rm_prop = connection, prop, rm_prop
        self.units, self.tenants, self.log = units, tenants, log_
        self.actor = connection.installer
        self.today = timezone.localdate(timezone=datetime.timezone(datetime.timedelta(hours=-5)))
        self.pending: dict[str, list] = defaultdict(list)  # kind/outcome counts held until commit
        self.created_units: dict[int, Apartment] = {}  # unit id -> its apartment made by this run
        self.parsed: dict[tuple, str] = {}  # (mobile number, country) -> Landline 1

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.pending[kind].append((outcome, n))

    def problem(self, kind, rm_id, reason, outcome=Outcome.FAILED) -> None:
        self.log.problem(kind, rm_id, reason, outcome=outcome, property_rm_id=self.prop.rm_id)

    def run(self) -> None:
        community = self.community()
        building = self.building(community)
        apartments = self.sync_units(community, building)
        self.sync_tenants(apartments)
        for kind, entries in self.pending.items():
            for outcome, n in entries:
                self.log.add(kind, outcome, n)

    # --- property -> community ---------------------------------------------------------------

    def community(self) -> Community:
        community = self.prop.community
        wanted = max(DEFAULT_APARTMENTS, len(self.units))
        if community is not None:
            if wanted > community.number_of_apartments:
                communities.integration_capacity_raise(
                    actor=self.actor, community=community, number_of_apartments=wanted
                )
                self.count(Kind.PROPERTY, Outcome.UPDATED)
            else:
                self.count(Kind.PROPERTY, Outcome.UNCHANGED)
            return community
        name = (self.rm_prop.get("Name") or self.prop.name or f"Property {self.prop.rm_id}").strip()[:64]
        _hold_name(self.actor.pk, name)
        if Community.objects.filter(installer=self.actor, name__iexact=name).exists():
            name = f"{name[: 64 - len(CLASH_SUFFIX)]}{CLASH_SUFFIX}"
        address = (self.rm_prop.get("Addresses") or [{}])[0] or {}
        post_code = "".join(ch for ch in str(address.get("PostalCode") or "") if ch.isalnum())[:16]
        community = communities.community_create(
            actor=self.actor,
            integration=Integration.RENT_MANAGER,
            name=name,
            number_of_apartments=wanted,
            home_automation=False,
            landline_service=False,
            feature_plan=FeaturePlan.PREMIUM,
            access_control_permission=AccessControlPermission.PUBLIC_AND_PRIVATE,
            country=settings.SMARTPLUS_RENTMANAGER_COUNTRY,
            city=str(address.get("City") or "—")[:64],
            street=str(address.get("Street") or "—")[:128],
            state=str(address.get("State") or "")[:64],
            post_code=post_code,
            time_zone=self.actor.time_zone or "UTC",
        )
        SyncedProperty.objects.filter(pk=self.prop.pk).update(community=community)
        self.prop.community = community
        self.count(Kind.PROPERTY, Outcome.CREATED)
        return community

    def building(self, community: Community) -> Building:
        building = Building.objects.filter(community=community, name__iexact=BUILDING_NAME).first()
        if building is None:
            linked = (
                Apartment.objects.filter(rentmanager_unit__prop=self.prop).select_related("building").first()
            )
            building = linked.building if linked else None
        if building is None:
            building = communities.building_create(actor=self.actor, community=community, name=BUILDING_NAME)
        return building

    # --- units -> apartments -----------------------------------------------------------------

    def sync_units(self, community: Community, building: Building) -> dict[int, int]:
        """Rent Manager unit id -> apartment id of every listed unit that has its apartment.

        The linked apartments are compared as a slim snapshot (one query of the compared
        columns); only the changed ones are loaded whole and go to the service."""
        links = {
            rm_id: (link_pk, apartment_id, number, name, floor, missing_since)
            for rm_id, link_pk, apartment_id, number, name, floor, missing_since in UnitLink.objects.filter(
                prop=self.prop
            ).values_list(
                "rm_id",
                "pk",
                "apartment_id",
                "apartment__number",
                "apartment__name",
                "apartment__floor",
                "missing_since",
            )
        }
        seen, new, changed, back = set(), [], {}, []
        unchanged = 0
        for unit in self.units:
            rm_id = int(unit["UnitID"])
            seen.add(rm_id)
            name, floor = str(unit.get("Name") or "").strip()[:64], _floor(unit)
            link = links.get(rm_id)
            if link is None:
                new.append((rm_id, name, floor))
                continue
            if link[5] is not None:
                back.append(link[0])
            if link[3] != name or link[4] != floor:
                changed[link[1]] = (rm_id, name, floor)
            else:
                unchanged += 1
        self.count(Kind.UNIT, Outcome.UNCHANGED, unchanged)
        if back:
            UnitLink.objects.filter(pk__any_of=back).update(missing_since=None)
        if changed:
            self.update_units(changed)
        if new:
            self.create_units(community, building, new)
        gone = [(rm_id, link) for rm_id, link in links.items() if rm_id not in seen]
        newly_gone = [link[0] for _rm_id, link in gone if link[5] is None]
        if newly_gone:
            UnitLink.objects.filter(pk__any_of=newly_gone).update(missing_since=timezone.now())
        for rm_id, link in gone:
            self.problem(
                Kind.UNIT,
                rm_id,
                f"The unit is no longer in Rent Manager; APT {link[2]} is kept for you to delete or keep.",
                outcome=Outcome.FLAGGED,
            )
        apartment_ids = {rm_id: link[1] for rm_id, link in links.items() if rm_id in seen}
        apartment_ids.update((rm_id, apt.pk) for rm_id, apt in self.created_units.items())
        return apartment_ids

    def update_units(self, changed: dict[int, tuple]) -> None:
        """The units whose name or floor changed: apartment id -> (unit id, name, floor)."""
        apartments = list(Apartment.objects.filter(pk__any_of=list(changed)).order_by("pk"))
        for apt in apartments:
            _rm_id, apt.name, apt.floor = changed[apt.pk]
        try:
            with transaction.atomic():
                residents.apartment_bulk_update(
                    actor=self.actor, apartments=apartments, fields=["floor", "name"]
                )
        except ValidationError as exc:
            for apt in apartments:
                self.problem(Kind.UNIT, changed[apt.pk][0], _messages(exc))
            return
        self.count(Kind.UNIT, Outcome.UPDATED, len(apartments))

    def create_units(self, community: Community, building: Building, new: list) -> None:
        numbers = [
            int(n)
            for n in Apartment.objects.filter(community=community).values_list("number", flat=True)
            if n.isdigit()
        ]
        start = max(numbers, default=0) + 1
        apartments = [
            _new(Apartment, {"number": str(start + i), "name": name, "floor": floor}, building=building)
            for i, (_rm_id, name, floor) in enumerate(new)
        ]
        try:
            with transaction.atomic():
                residents.apartment_bulk_create(actor=self.actor, community=community, apartments=apartments)
                names = _random_names(2 * len(apartments))
                masters = [
                    _new(Resident, {"first_name": names[2 * i], "last_name": names[2 * i + 1]}, apartment=apt)
                    for i, apt in enumerate(apartments)
                ]
                residents.family_master_bulk_create(actor=self.actor, community=community, residents=masters)
                # The sync's own links: plain rows, no instances (nothing reads them back here).
                bulk.insert_rows(
                    UnitLink,
                    constants={"prop_id": self.prop.pk},
                    columns=("rm_id", "apartment_id"),
                    rows=((rm_id, apt.pk) for (rm_id, _n, _f), apt in zip(new, apartments, strict=True)),
                )
        except ValidationError as exc:
            for rm_id, _n, _f in new:
                self.problem(Kind.UNIT, rm_id, _messages(exc))
            return
        self.created_units = {rm_id: apt for (rm_id, _n, _f), apt in zip(new, apartments, strict=True)}
        self.count(Kind.UNIT, Outcome.CREATED, len(new))

    # --- tenants -> family members ---------------------------------------------------------------

    def member_snapshot(self) -> dict[int, tuple]:
        """contact id -> (tenant id, resident id, apartment id, first name, last name, email,
        landline 1, country) of every linked member: one query of the compared columns."""
        return {
            row[0]: row[1:]
            for row in ContactLink.objects.filter(prop=self.prop).values_list(
                "rm_id",
                "tenant_rm_id",
                "resident_id",
                "resident__apartment_id",
                "resident__first_name",
                "resident__last_name",
                "resident__email",
                "resident__landline1",
                "resident__country",
            )
        }

    def landline(self, mobile: str, stored: tuple | None, country: str) -> str:
        """Landline 1 for a contact's mobile number. Unchanged digits of a number stored for the
        same country are that stored number (what normalizing them gave last time), so a re-sync
        parses only the numbers that changed; a new member's number is the service's to parse."""
        number = stored[6] if stored is not None and str(stored[7]) == country else ""
        if number and _digits_only(mobile) == number:
            return number
        if stored is None:
            return mobile  # a new member: the service normalizes (or refuses) it as it checks it
        key = (mobile, country)
        if key not in self.parsed:
            try:
                self.parsed[key] = phones.normalize(mobile, country, mobile=False)
            except ValidationError:
                self.parsed[key] = mobile  # the service's message goes on the row
        return self.parsed[key]

    def wanted_members(self, apartments: dict[int, int], links: dict[int, tuple]) -> tuple[dict, set, set]:
        """contact id -> (tenant id, apartment id, fields) of every member there should be; the
        contact ids Rent Manager still lists (a member not wanted among them has no current lease);
        and those to leave alone (their unit is not synced)."""
        wanted, listed, held = {}, set(), set()
        country = settings.SMARTPLUS_RENTMANAGER_COUNTRY
        for tenant in self.tenants:
            tenant_id = int(tenant["TenantID"])
            current = [lease for lease in tenant.get("Leases") or () if lease_is_current(lease, self.today)]
            for contact in tenant.get("Contacts") or ():
                contact_id = int(contact["ContactID"])
                listed.add(contact_id)
                if str(contact.get("ApplicantType") or "").lower() not in MEMBER_APPLICANT_TYPES:
                    continue
                if not current:
                    continue
                unit_id = int(current[0]["UnitID"])
                apartment_id = apartments.get(unit_id)
                if apartment_id is None:
                    # The unit is gone from Rent Manager (flagged above) or never synced: the
                    # member, if any, stays as it is for a person to decide.
                    held.add(contact_id)
                    self.problem(
                        Kind.TENANT,
                        tenant_id,
                        f"Contact {contact_id}: the lease is on unit {unit_id}, which is not synced; "
                        "left as it is.",
                        outcome=Outcome.FLAGGED,
                    )
                    continue
                mobile = _mobile(contact)
                fields = {
                    "first_name": str(contact.get("FirstName") or tenant.get("FirstName") or "").strip()[:64],
                    "last_name": str(contact.get("LastName") or tenant.get("LastName") or "").strip()[:64],
                    "email": str(contact.get("Email") or "").strip(),
                    "landline1": "",
                }
                if mobile:
                    fields["landline1"] = self.landline(mobile, links.get(contact_id), country)
                    fields["country"] = country
                wanted[contact_id] = (tenant_id, apartment_id, fields)
        return wanted, listed, held

    def sync_tenants(self, apartments: dict[int, int]) -> None:
        links = self.member_snapshot()
        wanted, listed, held = self.wanted_members(apartments, links)
        ended, new_members, changed = [], [], {}
        unchanged = 0
        for contact_id, link in links.items():
            if contact_id in wanted or contact_id in held:
                continue
            if contact_id in listed:
                # The lease ended (or the contact is no longer a Primary or Occupant): the spec
                # deletes the family member.
                ended.append((contact_id, link, False))
            else:
                name = f"{link[3]} {link[4]}".strip()
                self.problem(
                    Kind.TENANT,
                    link[0],
                    f"Contact {contact_id} is no longer in Rent Manager; family member {name} is kept "
                    "for you to decide.",
                    outcome=Outcome.FLAGGED,
                )
        for contact_id, (tenant_id, apartment_id, fields) in wanted.items():
            link = links.get(contact_id)
            if link is not None and link[2] != apartment_id:
                ended.append((contact_id, link, True))
                link = None
            if link is None:
                new_members.append((contact_id, tenant_id, apartment_id, fields))
                continue
            stored = dict(zip(MEMBER_COLUMNS, link[3:], strict=True))
            diff = {k: v for k, v in fields.items() if str(stored[k]) != v}
            if diff:
                changed[link[1]] = (contact_id, tenant_id, diff)
            else:
                unchanged += 1
        self.count(Kind.TENANT, Outcome.UNCHANGED, unchanged)
        if ended:
            self.delete_members(ended)
        if changed:
            self.update_members(changed)
        if new_members:
            self.create_members(self.with_apartments(new_members))

    def with_apartments(self, rows: list) -> list:
        """The new members' rows with their apartments: those this run made, the others in one query."""
        made = {apt.pk: apt for apt in self.created_units.values()}
        missing = sorted({row[2] for row in rows} - set(made))
        if missing:
            made.update((apt.pk, apt) for apt in Apartment.objects.filter(pk__any_of=missing))
        return [(contact, tenant, made[apt_id], fields) for contact, tenant, apt_id, fields in rows]

    def update_members(self, changed: dict[int, tuple]) -> None:
        """Members whose Rent Manager fields changed: resident id -> (contact id, tenant id, diff)."""
        for member in Resident.objects.filter(pk__any_of=list(changed)).order_by("pk"):
            contact_id, tenant_id, diff = changed[member.pk]
            try:
                with transaction.atomic():
                    residents.family_member_update(actor=self.actor, member=member, fields=diff)
                self.count(Kind.TENANT, Outcome.UPDATED)
            except ValidationError as exc:
                self.problem(Kind.TENANT, tenant_id, f"Contact {contact_id}: {_messages(exc)}")

    def delete_members(self, ended: list) -> None:
        """Members whose lease ended, or who moved to another unit (made again there)."""
        members = Resident.objects.in_bulk([link[1] for _contact_id, link, _moved in ended])
        for contact_id, link, moved in ended:
            member = members.get(link[1])
            if member is None:
                continue  # already gone with its family master
            try:
                with transaction.atomic():
                    residents.resident_delete(actor=self.actor, resident=member)
            except (ValidationError, PermissionDenied) as exc:
                self.problem(Kind.TENANT, link[0], f"Contact {contact_id}: {_messages(exc)}")
                continue
            if not moved:
                self.count(Kind.TENANT, Outcome.DELETED)

    def create_members(self, rows: list) -> None:
        """New family members in one bulk create; rows the service refuses (an email another end
        user has, a bad number) become problems and the rest is created."""
        community_id = rows[0][2].community_id
        community = Community.objects.get(pk=community_id)
        for _attempt in range(2):
            members = [_new(Resident, fields, apartment=apartment) for _c, _t, apartment, fields in rows]
            try:
                with transaction.atomic():
                    residents.family_member_bulk_create(
                        actor=self.actor, community=community, members=members
                    )
                    bulk.insert_rows(
                        ContactLink,
                        constants={"prop_id": self.prop.pk},
                        columns=("rm_id", "tenant_rm_id", "resident_id"),
                        rows=(
                            (contact_id, tenant_id, member.pk)
                            for (contact_id, tenant_id, _a, _f), member in zip(rows, members, strict=True)
                        ),
                    )
            except BulkErrors as exc:
                refused = set(exc.rows)
                for index in sorted(refused):
                    contact_id, tenant_id = rows[index][0], rows[index][1]
                    reason = "; ".join(str(m) for ms in exc.rows[index].values() for m in ms)
                    self.problem(Kind.TENANT, tenant_id, f"Contact {contact_id}: {reason}")
                rows = [row for index, row in enumerate(rows) if index not in refused]
                if not rows:
                    return
                continue
            except ValidationError:
                break  # a concurrent clash: one by one below
            self.count(Kind.TENANT, Outcome.CREATED, len(rows))
            return
        for contact_id, tenant_id, apartment, fields in rows:
            self.create_member(contact_id, tenant_id, apartment, fields)

    def create_member(self, contact_id: int, tenant_id: int, apartment: Apartment, fields: dict) -> None:
        try:
            with transaction.atomic():
                member = residents.family_member_create(actor=self.actor, apartment=apartment, fields=fields)
                ContactLink.objects.create(
                    prop=self.prop, rm_id=contact_id, tenant_rm_id=tenant_id, resident=member
                )
        except ValidationError as exc:
            # An email another end user has, a bad phone number: this row only, not the run.
            self.problem(Kind.TENANT, tenant_id, f"Contact {contact_id}: {_messages(exc)}")
            return
        self.count(Kind.TENANT, Outcome.CREATED)
