"""The residents and devices template: its download, and its import into a community.

Spec: "Add Community Residents to a Building Using Template" and "Add Devices to Residents'
Building Using a Template" ("you can import both residents and devices at the same time").
One row is an apartment of a building with its resident (the family master) and its devices:

- Building: at most 128 characters, created when new. A row with a Building and no Apt carries
  devices of that building; a row with neither carries devices of the public area.
- Apt: 1-6 digits and "#", never starting with "#". An APT already in that building is updated
  (a blank cell keeps what it has); one in another building of the community is an error.
- Device: "Device name, Device type, Device MAC" entries separated by ";", type codes 0, 1, 2, 3
  and 50. The MAC must be in the installer's MAC library and bound to no other device; a MAC
  already bound to a device at the same place renames that device.
- FirstName / LastName (at most 64), Email (unique among end users), MobileNumber and 1st-3rd
  Phone checked against the country of TelephoneCallingCode, CallType 0-5, WebRelayID 0-50.
- Feature plan Basic: every new apartment brings an indoor monitor (device type 2).

The field rules are the forms' own (`residents.services`, `devices.services`,
`communities.services`); what the forms look up one row at a time is looked up here once per file.
`plan_import` checks and writes nothing; `apply_import` checks again under the writers' locks
and then writes every row, or raises `ImportRejected` and writes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from communities.models import Building, Community
from communities.services import building_bulk_create, building_field_errors
from maclib.models import MacAddress
from maclib.validators import normalize_mac
from residents import services as rules
from residents.choices import CallType
from residents.models import Apartment, Resident
from smartplus import audit, authz, importing, phones, roles
from smartplus.bulk import BulkErrors, attach, blank, clone, full_collections_deferred
from smartplus.xlsx import FORMULA, RowError

from . import services as device_rules
from .choices import DeviceType, NetworkGroup, Place
from .models import Device

COLUMNS = (
    "Building",
    "Apt",
    "AptName",
    "Device",
    "FirstName",
    "LastName",
    "Email",
    "MobileNumber",
    "TelephoneCallingCode",
    "1stPhone",
    "2ndPhone",
    "3rdPhone",
    "CallType",
    "WebRelayID",
)
REQUIRED = ("Building", "Apt")
MAX_ROWS = 20_000
TEMPLATE_FILENAME = "SmartPlus_Residents_Template.xlsx"
# The spec's Template Sample row.
SAMPLE_ROW = ("Building#2", "403", "Ryan", None, "Ryan", "Chen")
PHONE_COLUMNS = {
    "mobile_number": "MobileNumber",
    "landline1": "1stPhone",
    "landline2": "2ndPhone",
    "landline3": "3rdPhone",
}
RESIDENT_COLUMNS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "country": "TelephoneCallingCode",
    **PHONE_COLUMNS,
}
APARTMENT_COLUMNS = {
    "number": "Apt",
    "name": "AptName",
    "call_type": "CallType",
    "web_relay_id": "WebRelayID",
}
DEVICE_FORMAT = _("“Device name, Device type, Device MAC”, e.g. Living Room,2,0C11050893C6")
TYPE_CODES = ", ".join(str(t.value) for t in DeviceType)


# --- reading a row -------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _number(value, column: str, low: int, high: int, errors: list[RowError], row: int, what: str):
    if value is None:
        return None
    text = _text(value)
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    errors.append(
        RowError(row, column, gettext("“%(text)s” is not %(what)s.") % {"text": text, "what": what})
    )
    return None


@dataclass(slots=True)
class DeviceEntry:
    name: str
    device_type: int
    mac: str
    device: Device  # checked, with its place's defaults; the plan fills in where it goes


@dataclass(slots=True)
class Line:
    """One row of the file, read and checked on its own."""

    row: int
    building: str
    apt: str
    place: str
    apartment: dict
    resident: dict
    devices: list[DeviceEntry]
    new_apartment: Apartment | None  # checked with the row's values, used if the APT is new


DEVICE_TYPE_CODES = frozenset(DeviceType.values)


def _checked_device(place: str, name: str, device_type: int, offline: bool) -> tuple[Device, tuple[str, ...]]:
    # Cached per language too: the problems are messages in the active language.
    return _checked_device_in(place, name, device_type, offline, translation.get_language())


@lru_cache(maxsize=1024)
def _checked_device_in(
    place: str, name: str, device_type: int, offline: bool, language: str | None
) -> tuple[Device, tuple[str, ...]]:
    """A device of this place, name and type with its place's defaults, and what is wrong with it.
    A file repeats a few names ("Living Room") thousands of times: each is checked once, and each
    entry gets a copy."""
    device = Device(place=place, name=name, device_type=device_type, network_group=NetworkGroup.GROUP_1)
    problems = device_rules.device_field_errors(device, offline=offline)
    return device, tuple(message for messages in problems.values() for message in messages)


def _device_entries(cell, place: str, offline: bool, row: int, errors: list[RowError]) -> list[DeviceEntry]:
    entries = []
    for text in (part.strip() for part in _text(cell).split(";")):
        if not text:
            continue
        parts = [p.strip() for p in text.rsplit(",", 2)]
        if len(parts) != 3:
            errors.append(
                RowError(
                    row,
                    "Device",
                    gettext("“%(text)s” is not %(what)s.") % {"text": text, "what": DEVICE_FORMAT},
                )
            )
            continue
        name, code, raw_mac = parts
        if not (code.isascii() and code.lstrip("-").isdigit()) or int(code) not in DEVICE_TYPE_CODES:
            errors.append(
                RowError(
                    row,
                    "Device",
                    gettext("“%(text)s”: the device type is one of %(codes)s.")
                    % {"text": text, "codes": TYPE_CODES},
                )
            )
            continue
        try:
            mac = normalize_mac(raw_mac)
        except ValidationError as exc:
            errors.append(RowError(row, "Device", f"“{text}”: {exc.messages[0]}"))
            continue
        checked, problems = _checked_device(place, name, int(code), offline)
        if problems:
            errors.extend(RowError(row, "Device", f"“{text}”: {m}") for m in problems)
            continue
        device = clone(checked)
        entries.append(DeviceEntry(name=device.name, device_type=device.device_type, mac=mac, device=device))
    return entries


def _building_name_errors(name: str) -> tuple[str, ...]:
    return _building_name_errors_in(name, translation.get_language())


@lru_cache(maxsize=1024)
def _building_name_errors_in(name: str, language: str | None) -> tuple[str, ...]:
    # A file names few buildings many times: each name is checked once (per language).
    return tuple(building_field_errors(Building(name=name)).get("name", []))


def read_line(
    row: int, values: dict, *, offline: bool, errors: list[RowError], field_checks: bool = True
) -> Line:
    """A row's own checks: everything that needs no lookup. Problems go to `errors`.
    `field_checks=False`: not the apartment's field rules (the bulk services apply them)."""
    building, apt = _text(values.get("Building")), _text(values.get("Apt"))
    if building:
        errors.extend(RowError(row, "Building", m) for m in _building_name_errors(building))
    apartment = {}
    if values.get("AptName") is not None:
        apartment["name"] = _text(values["AptName"])
    call_type = _number(
        values.get("CallType"), "CallType", 0, 5, errors, row, _("a call type code from 0 to 5")
    )
    if call_type is not None:
        apartment["call_type"] = call_type
    relay = _number(
        values.get("WebRelayID"), "WebRelayID", 0, 50, errors, row, _("a whole number from 0 to 50")
    )
    if relay is not None:
        apartment["web_relay_id"] = relay
    probe = None
    if apt:
        probe = blank(Apartment)
        probe.number = apt
        for name, value in apartment.items():
            setattr(probe, name, value)
    if probe is not None and field_checks:
        # Only the row's fields: the others are the model's defaults.
        for name, messages in rules.apartment_field_errors(probe, only=("number", *apartment)).items():
            errors.extend(RowError(row, APARTMENT_COLUMNS.get(name, "Apt"), m) for m in messages)
    resident = {
        name: _text(values.get(column)) for name, column in RESIDENT_COLUMNS.items() if name != "country"
    }
    resident = {name: value for name, value in resident.items() if value}
    code = values.get("TelephoneCallingCode")
    if code is not None:
        try:
            resident["country"] = phones.region_for_calling_code(code)
        except ValidationError as exc:
            errors.append(RowError(row, "TelephoneCallingCode", exc.messages[0]))
    elif any(name in resident for name in PHONE_COLUMNS):
        errors.append(
            RowError(
                row,
                "TelephoneCallingCode",
                gettext("Enter the country calling code of the phone numbers, e.g. 1 or 86."),
            )
        )
    if (resident or apartment) and not apt:
        errors.append(RowError(row, "Apt", gettext("Enter the APT of this row's apartment and resident.")))
    if apt and not building:
        errors.append(RowError(row, "Building", gettext("Enter the building of the APT.")))
    place = Place.APARTMENT if apt else Place.BUILDING if building else Place.PUBLIC
    devices = _device_entries(values.get("Device"), place, offline, row, errors)
    return Line(row, building, apt, place, apartment, resident, devices, probe)


# --- the plan --------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the import writes, per kind; `errors` empty means it may be written."""

    community: Community
    errors: list[RowError] = field(default_factory=list)
    preview: importing.Preview = field(
        default_factory=lambda: importing.Preview(["buildings", "apartments", "residents", "devices"])
    )
    buildings: dict[str, Building] = field(default_factory=dict)
    new_buildings: dict[str, Building] = field(default_factory=dict)
    new_apartments: list[Apartment] = field(default_factory=list)
    changed_apartments: list[Apartment] = field(default_factory=list)
    new_residents: list[Resident] = field(default_factory=list)
    changed_residents: list[Resident] = field(default_factory=list)
    new_devices: list[Device] = field(default_factory=list)
    renamed_devices: list[Device] = field(default_factory=list)
    # Each object's row (by id()), to report a service's refusal where it came from.
    row_of: dict[int, int] = field(default_factory=dict)
    # The fields the updates change: only these are written back.
    apartment_fields: set[str] = field(default_factory=set)
    resident_fields: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "buildings created": len(self.new_buildings),
            "apartments created": len(self.new_apartments),
            "apartments updated": len(self.changed_apartments),
            "residents created": len(self.new_residents),
            "residents updated": len(self.changed_residents),
            "devices created": len(self.new_devices),
            "devices renamed": len(self.renamed_devices),
        }


class LibraryEntry(NamedTuple):
    pk: int
    installer_id: int


@dataclass
class Known:
    """What the database holds for the file's buildings, APTs, emails and MACs: one query each."""

    buildings: dict[str, Building]
    apartments: dict[str, Apartment]
    masters: dict[int, Resident]
    emails: dict[str, int]
    macs: dict[str, LibraryEntry]
    bound: dict[int, Device]

    @classmethod
    def load(cls, community: Community, lines: list[Line], *, lock: bool) -> Known:
        numbers = {line.apt for line in lines if line.apt}
        emails = {line.resident["email"].lower() for line in lines if line.resident.get("email")}
        macs = {entry.mac for line in lines for entry in line.devices}
        apartments = Apartment.objects.filter(community=community, number__any_of=numbers).select_related(
            "building"
        )
        masters = Resident.objects.filter(
            apartment__community=community, apartment__number__any_of=numbers
        ).filter(family_master__isnull=True)
        if lock:  # rows the import may update: no edit in between is overwritten
            apartments = apartments.select_for_update(of=("self",)).order_by("pk")
            masters = masters.select_for_update(of=("self",)).order_by("pk")
        apartments = {a.number: a for a in apartments}
        masters = {r.apartment_id: r for r in masters}
        taken = dict(
            Resident.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__any_of=emails)
            .values_list("email_lower", "pk")
        )
        entries = MacAddress.objects.filter(mac__any_of=macs).order_by("pk")
        if lock:
            entries = entries.select_for_update()
        # Tuples, not model instances: a file may name 20,000 MACs.
        entries = {
            mac: LibraryEntry(pk, installer)
            for mac, pk, installer in entries.values_list("mac", "pk", "installer_id")
        }
        library_ids = [e.pk for e in entries.values()]
        bound = {
            d.mac_address_id: d
            for d in Device.objects.filter(mac_address_id__any_of=library_ids).select_related(
                "community", "building", "apartment"
            )
        }
        buildings = {b.name.lower(): b for b in Building.objects.filter(community=community)}
        return cls(buildings, apartments, masters, taken, entries, bound)


class Planner:
    """Walks the lines in row order and decides, for each, what is created, updated or wrong."""

    def __init__(self, community: Community, known: Known, plan: Plan, *, field_checks: bool = True):
        self.community, self.known, self.plan = community, known, plan
        self.field_checks = field_checks
        self.basic = device_rules.requires_indoor_monitor(community)
        self.apt_rows: dict[str, int] = {}
        self.email_rows: dict[str, int] = {}
        self.mac_rows: dict[str, int] = {}
        self.capacity = max(community.number_of_apartments - community.apartment_count, 0)
        self.new_apartment_count = 0
        self.capacity_row = 0

    def error(self, row: int, column: str, reason: str) -> None:
        self.plan.errors.append(RowError(row, column, reason))

    def building(self, line: Line) -> Building | None:
        if not line.building:
            return None
        key = line.building.lower()
        found = self.known.buildings.get(key) or self.plan.new_buildings.get(key)
        if found is None:
            found = Building(community=self.community, name=line.building)
            self.plan.new_buildings[key] = found
            self.plan.row_of[id(found)] = line.row
            self.plan.preview.add("buildings", "create", line.row, line.building)
        return found

    def apartment(self, line: Line, building: Building) -> tuple[Apartment | None, bool]:
        """The line's APT (existing or new) and whether it is new; None after an error."""
        earlier = self.apt_rows.setdefault(line.apt, line.row)
        if earlier != line.row:
            self.error(
                line.row,
                "Apt",
                gettext("APT %(number)s is already on row %(row)s of this file.")
                % {"number": line.apt, "row": earlier},
            )
            return None, False
        existing = self.known.apartments.get(line.apt)
        if existing is not None:
            if existing.building.name.lower() != line.building.lower():
                self.error(line.row, "Apt", rules.apartment_clash_message(line.apt, existing.building.name))
                return None, False
            changed = {k: v for k, v in line.apartment.items() if getattr(existing, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(existing, name, value)
                self.plan.apartment_fields.update(changed)
                self.plan.changed_apartments.append(existing)
                self.plan.row_of[id(existing)] = line.row
                self.plan.preview.add("apartments", "update", line.row, f"APT {line.apt} ({building.name})")
            return existing, False
        self.new_apartment_count += 1
        if self.new_apartment_count > self.capacity and not self.capacity_row:
            self.capacity_row = line.row
        apt = line.new_apartment
        attach(apt, community=self.community, building=building)
        self.plan.new_apartments.append(apt)
        self.plan.row_of[id(apt)] = line.row
        label = f"APT {line.apt} ({building.name})" + (f" “{apt.name}”" if apt.name else "")
        self.plan.preview.add("apartments", "create", line.row, label)
        return apt, True

    def resident(self, line: Line, apt: Apartment, is_new_apt: bool) -> None:
        given = line.resident
        if not given:
            return
        email = given.get("email", "").lower()
        if email:
            earlier = self.email_rows.setdefault(email, line.row)
            if earlier != line.row:
                self.error(
                    line.row,
                    "Email",
                    gettext("%(email)s is already on row %(row)s of this file.")
                    % {"email": given["email"], "row": earlier},
                )
                return
        master = None if is_new_apt else self.known.masters.get(apt.pk)
        if master is None:
            person = blank(Resident)
            attach(person, community=self.community, apartment=apt)
            for name, value in given.items():
                setattr(person, name, value)
        else:
            person = master
            before = {name: getattr(master, name) for name in RESIDENT_COLUMNS}
            for name, value in given.items():
                setattr(person, name, value)
        if master is None and not self.field_checks:
            problems = {}  # family_master_bulk_create checks a new end user's fields
        else:
            problems = rules.resident_field_errors(person, check_country=False, only=RESIDENT_COLUMNS)
        if "country" not in given:
            # The row's phones were refused at TelephoneCallingCode (missing or bad) already; the
            # form's "Select the Country / Region" names a field the template does not have.
            for name in PHONE_COLUMNS:
                problems.pop(name, None)
        for name, messages in problems.items():
            for message in messages:
                self.error(line.row, RESIDENT_COLUMNS.get(name, "FirstName"), message)
        if problems:
            return
        taken_by = self.known.emails.get(person.email.lower()) if person.email else None
        if taken_by is not None and (master is None or taken_by != master.pk):
            self.error(line.row, "Email", rules.EMAIL_TAKEN)
            return
        if apt is None:
            return
        label = f"{person.display_name} (APT {line.apt})"
        if master is None:
            self.plan.new_residents.append(person)
            self.plan.row_of[id(person)] = line.row
            self.plan.preview.add("residents", "create", line.row, label)
        elif changed := [name for name, value in before.items() if getattr(master, name) != value]:
            self.plan.resident_fields.update(changed)
            self.plan.changed_residents.append(master)
            self.plan.row_of[id(master)] = line.row
            self.plan.preview.add("residents", "update", line.row, label)

    def devices(self, line: Line, building: Building | None, apt: Apartment | None, is_new_apt: bool) -> None:
        refused = line.place == Place.APARTMENT and apt is None  # the row's APT: checked, not planned
        monitors = 0
        in_row: set[str] = set()
        for entry in line.devices:
            text = f"{entry.name},{entry.device_type},{entry.mac}"
            earlier = self.mac_rows.setdefault(entry.mac, line.row)
            if earlier != line.row or entry.mac in in_row:
                self.error(
                    line.row,
                    "Device",
                    gettext("%(mac)s is already on row %(row)s of this file.")
                    % {"mac": entry.mac, "row": earlier},
                )
                continue
            in_row.add(entry.mac)
            library = self.known.macs.get(entry.mac)
            # Another installer's MAC reads exactly like an unknown one.
            if library is None or library.installer_id != self.community.installer_id:
                self.error(line.row, "Device", f"“{text}”: {device_rules.not_in_library_message(entry.mac)}")
                continue
            bound = self.known.bound.get(library.pk)
            if bound is not None:
                if not self._same_place(bound, line, building, apt, is_new_apt):
                    self.error(
                        line.row, "Device", f"“{text}”: {device_rules.bound_message(entry.mac, bound)}"
                    )
                elif bound.device_type != entry.device_type:
                    self.error(
                        line.row,
                        "Device",
                        gettext(
                            "“%(text)s”: %(mac)s is the %(type)s “%(name)s”; change a device's type in its "
                            "Edit dialog."
                        )
                        % {
                            "text": text,
                            "mac": entry.mac,
                            "type": bound.get_device_type_display().lower(),
                            "name": bound.name,
                        },
                    )
                else:
                    monitors += bound.device_type == DeviceType.INDOOR_MONITOR
                    if bound.name != entry.name and not refused:
                        bound.name = entry.name
                        self.plan.renamed_devices.append(bound)
                        self.plan.row_of[id(bound)] = line.row
                        self.plan.preview.add("devices", "update", line.row, f"{entry.name} ({entry.mac})")
                continue
            monitors += entry.device_type == DeviceType.INDOOR_MONITOR
            if refused:
                continue
            device = entry.device
            attach(device, community=self.community, building=building, apartment=apt)
            device.mac_address_id = library.pk
            self.plan.new_devices.append(device)
            self.plan.row_of[id(device)] = line.row
            text = ""
            if self.plan.preview.shows("devices"):  # the label's type lookup costs more than the rest
                where = f"APT {line.apt}" if line.apt else line.building or "Public Area"
                kind = DeviceType(entry.device_type).label
                text = f"{entry.name} ({kind}, {entry.mac}) in {where}"
            self.plan.preview.add("devices", "create", line.row, text)
        if self.basic and is_new_apt and not monitors and not refused:
            self.error(
                line.row,
                "Device",
                gettext(
                    "The feature plan of %(community)s needs an indoor monitor in every apartment: "
                    "add one, e.g. Living Room,2,0C11050893C6."
                )
                % {"community": self.community.name},
            )

    def _same_place(self, device: Device, line: Line, building, apt, is_new_apt: bool) -> bool:
        if device.community_id != self.community.pk or device.place != line.place:
            return False
        if line.place == Place.APARTMENT:
            return not is_new_apt and device.apartment_id == apt.pk
        if line.place == Place.BUILDING:
            return building.pk is not None and device.building_id == building.pk
        return True

    def walk(self, lines: list[Line], progress: Callable) -> None:
        progress(0, phase="Checking the rows", total=len(lines))
        for done, line in enumerate(lines, start=1):
            building = self.building(line)
            apt, is_new = (None, False)
            if line.apt and building is not None:
                apt, is_new = self.apartment(line, building)
            # A refused APT (None) still has its resident and devices checked: every error of the
            # row at once. Nothing of such a row is planned.
            if line.apt:
                self.resident(line, apt, is_new or apt is None)
            self.devices(line, building, apt, is_new or apt is None)
            progress(done)
        if self.capacity_row:
            self.error(
                self.capacity_row, "Apt", rules.capacity_message(self.community, self.new_apartment_count)
            )


@full_collections_deferred()
def plan_import(
    *,
    community: Community,
    rows: list[tuple[int, dict]],
    progress: Callable = lambda *a, **k: None,
    lock=False,
    field_checks=True,
) -> Plan:
    """Every rule for every row; nothing written. `lock` takes the MAC rows' locks (apply).
    `field_checks=False` (apply, after the preview checked the same file): the new rows' own
    field rules are left to the bulk services, which check them anyway."""
    plan = Plan(community=community)
    offline = device_rules.offline_solution_enabled(community)
    progress(0, phase="Reading the rows", total=len(rows))
    lines = []
    for done, (row, values) in enumerate(rows, start=1):
        lines.append(read_line(row, values, offline=offline, errors=plan.errors, field_checks=field_checks))
        progress(done)
    if not rows:
        plan.errors.append(RowError(2, "Building", gettext("The file has no rows under the header.")))
    known = Known.load(community, lines, lock=lock)
    plan.buildings = known.buildings
    Planner(community, known, plan, field_checks=field_checks).walk(lines, progress)
    plan.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    return plan


# --- writing ------------------------------------------------------------------------------------


@audit.change_set()  # every row's entry, whoever calls
@full_collections_deferred()
@transaction.atomic
def apply_import(
    *, actor, community: Community, rows: list[tuple[int, dict]], progress=lambda *a, **k: None
) -> dict:
    """Write every row of a checked file, or raise ImportRejected and write nothing."""
    authz.authorize(actor, roles.ADD, Apartment, parent=community)
    authz.require_role(actor, roles.ADD, Device)
    community = (
        Community.objects.select_related("installer__distributor")
        .select_for_update(of=("self",))
        .get(pk=community.pk)
    )
    plan = plan_import(community=community, rows=rows, progress=progress, lock=True, field_checks=False)
    if plan.errors:
        raise importing.ImportRejected(plan.errors)
    progress(0, phase="Writing", total=0)
    try:
        with transaction.atomic():
            _write(actor, plan)
    except (IntegrityError, ValidationError) as exc:  # a concurrent add of an email, APT or building
        if isinstance(exc, importing.ImportRejected):
            raise
        raise importing.ImportRejected(
            [
                RowError(
                    0, "", gettext("Another user changed this community meanwhile; upload the file again.")
                )
            ]
        ) from exc
    return {kind: count for kind, count in plan.counts().items() if count}


@contextmanager
def _at_rows(plan: Plan, objects: list, columns: dict[str, str], default: str):
    """A service's refusal of some of `objects` as the errors of the rows they came from."""
    try:
        yield objects
    except BulkErrors as exc:
        errors = [
            RowError(plan.row_of[id(objects[index])], columns.get(name, default), message)
            for index, fields in exc.rows.items()
            for name, messages in fields.items()
            for message in messages
        ]
        raise importing.ImportRejected(sorted(errors, key=lambda e: e.row)) from exc


def _write(actor, plan: Plan) -> None:
    """The services' bulk writes in dependency order. The plan's objects refer to each other (a
    new device to its new apartment, ...): each service takes the ids of what was saved before."""
    community = plan.community
    if plan.new_buildings:
        with _at_rows(plan, list(plan.new_buildings.values()), {}, "Building") as buildings:
            building_bulk_create(actor=actor, community=community, buildings=buildings)
    if plan.new_apartments:
        with _at_rows(plan, plan.new_apartments, APARTMENT_COLUMNS, "Apt") as apartments:
            rules.apartment_bulk_create(
                actor=actor,
                community=community,
                apartments=apartments,
                provided={device_rules.INDOOR_MONITOR},  # the plan gave each its monitor (Basic)
            )
    if plan.changed_apartments:
        with _at_rows(plan, plan.changed_apartments, APARTMENT_COLUMNS, "Apt") as apartments:
            rules.apartment_bulk_update(actor=actor, apartments=apartments, fields=plan.apartment_fields)
    if plan.new_residents:
        with _at_rows(plan, plan.new_residents, RESIDENT_COLUMNS, "FirstName") as residents:
            rules.family_master_bulk_create(actor=actor, community=community, residents=residents)
    if plan.changed_residents:
        with _at_rows(plan, plan.changed_residents, RESIDENT_COLUMNS, "FirstName") as residents:
            rules.family_master_bulk_update(actor=actor, residents=residents, fields=plan.resident_fields)
    if plan.new_devices:
        with _at_rows(plan, plan.new_devices, {}, "Device") as devices:
            device_rules.device_bulk_create(actor=actor, community=community, devices=devices)
    if plan.renamed_devices:
        with _at_rows(plan, plan.renamed_devices, {}, "Device") as devices:
            device_rules.device_bulk_rename(actor=actor, devices=devices)


# --- the importer the shared machinery runs ------------------------------------------------------


class TemplateImporter:
    """Reads, checks and writes an uploaded template (see smartplus.importing)."""

    def read(self, job, progress):
        return importing.read_stored(
            job,
            columns=COLUMNS,
            required=REQUIRED,
            max_rows=MAX_ROWS,
            template=_("the template (Download The Template on the dashboard)"),
            progress=progress,
        )

    def check(self, job, sheet, progress) -> importing.Checked:
        plan = plan_import(community=job.community, rows=sheet.rows, progress=progress)
        # A formula cell reads as empty: its own message says it all ("cannot be blank" would not).
        formulas = {(e.row, e.column) for e in sheet.errors if e.reason == FORMULA}
        errors = [e for e in plan.errors if (e.row, e.column) not in formulas]
        return importing.Checked(summary=plan.preview.summary, errors=sheet.errors + errors)

    def apply(self, job, sheet, progress) -> dict:
        if sheet.errors:
            raise importing.ImportRejected(sheet.errors)
        return apply_import(actor=job.actor, community=job.community, rows=sheet.rows, progress=progress)


# --- the template -------------------------------------------------------------------------------

DESCRIPTIONS = (
    ("Building", "The building number or name, at most 128 characters. A new name creates the building."),
    (
        "Apt",
        'The apartment number: 1-6 digits and "#", e.g. 2#123. Do not start it with "#" (#2#123): door '
        "phones in APT#+PIN mode could not tell the APT from the PIN. An APT that exists in this building "
        "is updated; blank cells keep its values.",
    ),
    ("AptName", "The apartment name (optional)."),
    (
        "Device",
        "Devices of the apartment: “Device name, Device type, Device MAC”, two devices separated by “;”. "
        "E.g. Gate2,0,0C11050B9814; Living Room,2,0C11050893C6. The MAC must be added to the MAC library "
        "first. A row with a Building and no Apt adds building devices; a row with neither adds public-area "
        "devices. Feature plan Basic: each apartment needs an indoor monitor.",
    ),
    ("FirstName", "The resident's first name, at most 64 characters."),
    ("LastName", "The resident's last name, at most 64 characters."),
    ("Email", "The resident's email: the SmartPlus app account is sent to it. Unique among end users."),
    ("MobileNumber", "The resident's mobile phone number, without the country calling code."),
    ("TelephoneCallingCode", "The country calling code of the phone numbers, e.g. 1, 44, 86."),
    ("1stPhone", "Landline 1: a phone number of the resident (mobile or fixed)."),
    ("2ndPhone", "Landline 2."),
    ("3rdPhone", "Landline 3."),
    ("CallType", "The call type code, see below (blank: 0 for a new APT; an existing APT keeps its own)."),
    (
        "WebRelayID",
        "The Web Relay Action ID (0-50; blank: 0 for a new APT, an existing APT keeps its own); "
        "the web relay is set up on the door phone's "
        "web interface.",
    ),
)


def template() -> bytes:
    """The template: the spec's columns and sample row, a CallType drop-down, and a sheet
    describing every column, the device type codes and format, and the call type codes.
    It reads as the spec prints it (English), whatever the user's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _template()


def _template() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Template"
    sheet.append(COLUMNS)
    sheet.append(SAMPLE_ROW)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    text_columns = ("B", "H", "I", "J", "K", "L")  # APT and phone numbers keep their leading zeros
    for index, name in enumerate(COLUMNS):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = max(12, len(name) + 4) if name != "Device" else 48
        if letter in text_columns:
            for row in range(2, 3):
                sheet[f"{letter}{row}"].number_format = "@"
            sheet.column_dimensions[letter].number_format = "@"
    codes = DataValidation(
        type="list",
        formula1='"' + ",".join(str(c.value) for c in CallType) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="CallType",
        error="Choose a call type code from 0 to 5 (see the Description sheet).",
        promptTitle="CallType",
        prompt="; ".join(f"{c.value} = {c.label!s}" for c in CallType),
        showInputMessage=True,
    )
    sheet.add_data_validation(codes)
    codes.add(f"M2:M{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    _describe(workbook.create_sheet("Description"))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _describe(sheet) -> None:
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100
    sheet.append(["Column", "Description"])
    for name, text in DESCRIPTIONS:
        sheet.append([name, text])
    sheet.append([])
    sheet.append(["Device type code", "Device type"])
    for device_type in DeviceType:
        sheet.append([device_type.value, str(device_type.label)])
    sheet.append([])
    sheet.append(
        ["Device format", "Device name, Device type, Device MAC; every two devices separated by “;”"]
    )
    sheet.append(["Example", "Gate2,0,0C11050B9814; Living Room,2,0C11050893C6"])
    sheet.append([])
    sheet.append(["Call type code", "Call type"])
    for call_type in CallType:
        sheet.append([call_type.value, str(call_type.label)])
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = wrap
            if cell.value in ("Column", "Device type code", "Call type code", "Device format"):
                cell.font = bold
                row[1].font = bold
