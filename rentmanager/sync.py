"""The Rent Manager sync: read a connection's properties from the API, write them through the
communities and residents services, and log every outcome.

- Everything of one property is fetched first, then written in one transaction: a failure while
  reading (a 5xx on the 3rd page, a time-out, a token that cannot be renewed) leaves the property
  as it was, a failure while writing rolls the property back. Either way the run's log says which
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
import logging
import secrets
import string
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
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

from .choices import MEMBER_APPLICANT_TYPES, Kind, Outcome, RunStatus
from .integrations.client import RentManagerClient, RentManagerError
from .models import Connection, ContactLink, SyncedProperty, SyncProblem, SyncRun, UnitLink

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
    """Counts per kind and outcome, and problems, of one run (written to the SyncRun at the end)."""

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
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
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


def run_sync(*, connection_id: int, run_id: int | None = None, trigger: str = "schedule") -> SyncRun:
    """Sync every picked property of the connection; returns the finished run."""
    connection = Connection.objects.select_related("installer").get(pk=connection_id)
    if run_id is not None:
        run = SyncRun.objects.get(pk=run_id, connection=connection)
    else:
        run = run_create(connection=connection, trigger=trigger)
    SyncRun.objects.filter(pk=run.pk).update(status=RunStatus.IN_PROGRESS)
    log_ = Log(run)
    status, message = RunStatus.SUCCESS, ""
    try:
        client = client_for(connection)
        with sync_actor(connection.installer):
            message = _sync_connection(connection, client, log_, run)
    except RentManagerError as exc:
        status, message = RunStatus.FAILED, str(exc)
    except Exception as exc:  # the run is logged as failed, whatever broke
        log.exception("Rent Manager sync of connection %s failed", connection_id)
        status, message = RunStatus.FAILED, _messages(exc)
    if status == RunStatus.SUCCESS and (log_.counts.get(Kind.PROPERTY, {}).get(Outcome.FAILED)):
        status = RunStatus.PARTIAL
    if status == RunStatus.SUCCESS and any(p.outcome == Outcome.FAILED for p in log_.problems):
        status = RunStatus.PARTIAL
    SyncProblem.objects.bulk_create(log_.problems)
    SyncRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        counts=log_.plain_counts(),
        finished_at=timezone.now(),
        progress="",
    )
    run.refresh_from_db()
    return run


def _sync_connection(connection: Connection, client: RentManagerClient, log_: Log, run: SyncRun) -> str:
    picked = list(connection.properties.select_related("community").order_by("name", "pk"))
    if not picked:
        return "No properties are picked for this connection."
    listed = {p["PropertyID"]: p for p in client.properties()}
    with Prefetch(client, [prop for prop in picked if prop.rm_id in listed]) as pages:
        for n, prop in enumerate(picked, 1):
            SyncRun.objects.filter(pk=run.pk).update(progress=f"Property {n} of {len(picked)}: {prop.name}")
            rm_prop = listed.get(prop.rm_id)
            if rm_prop is None:
                log_.problem(
                    Kind.PROPERTY,
                    prop.rm_id,
                    "The property is no longer listed by Rent Manager; its community is kept.",
                    outcome=Outcome.FLAGGED,
                    property_rm_id=prop.rm_id,
                )
                continue
            try:
                units, tenants = pages.get(prop)
            except RentManagerError as exc:
                log_.problem(
                    Kind.PROPERTY,
                    prop.rm_id,
                    f"{prop.name}: not synced, nothing changed ({exc}).",
                    property_rm_id=prop.rm_id,
                )
                continue
            try:
                with transaction.atomic():
                    PropertySync(connection, prop, rm_prop, units, tenants, log_).run()
            except (ValidationError, PermissionDenied, Http404) as exc:
                log_.problem(
                    Kind.PROPERTY,
                    prop.rm_id,
                    f"{prop.name}: not synced, nothing changed ({_messages(exc)}).",
                    property_rm_id=prop.rm_id,
                )
    return ""


class Prefetch:
    """The properties' units and tenants, read in one background thread one property ahead: the
    next property's pages arrive while this one is written, so a run takes about the longer of
    reading and writing rather than their sum. The thread only talks HTTP (the client is used by
    it alone from here on); at most two properties' pages are held in memory."""

    def __init__(self, client: RentManagerClient, props: list[SyncedProperty]):
        self.client, self.props = client, props
        self.futures: dict[int, Future] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rentmanager-fetch")

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc_info) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _fetch(self, rm_id: int) -> tuple[list, list]:
        return self.client.units(rm_id), self.client.tenants(rm_id)

    def _submit(self, index: int) -> None:
        if index < len(self.props) and index not in self.futures:
            self.futures[index] = self.pool.submit(self._fetch, self.props[index].rm_id)

    def get(self, prop: SyncedProperty) -> tuple[list, list]:
        """This property's (units, tenants), or its RentManagerError; starts reading the next one."""
        index = self.props.index(prop)
        self._submit(index)
        self._submit(index + 1)
        return self.futures.pop(index).result()


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
