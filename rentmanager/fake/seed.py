"""Seed data for the fake Rent Manager: the JSON shape, and a generator of any size.

    {"users": [{"Username": "api", "Password": "...", "LocationID": 1}],
     "Properties": [{"PropertyID", "Name", "ShortName",
                     "Addresses": [{"Street", "City", "State", "PostalCode"}]}],
     "Units": [{"UnitID", "PropertyID", "Name", "FloorID", "Floor": {"FloorID", "Name"}}],
     "Tenants": [{"TenantID", "PropertyID", "FirstName", "LastName", "Status"}],
     "Leases": [{"LeaseID", "TenantID", "UnitID", "PropertyID", "MoveInDate", "MoveOutDate"}],
     "Contacts": [{"ContactID", "ParentID", "ParentType", "FirstName", "LastName", "Email",
                   "ApplicantType", "IsPrimary", "PhoneNumbers": [{"PhoneNumberTypeID", "PhoneNumber",
                   "PhoneNumberType": {"Name": "Mobile"}}]}]}

Embedded objects (Addresses, Floor, PhoneNumbers; a tenant's Leases and Contacts) are returned
only when `embeds=` asks for them, as Rent Manager does.
"""

from __future__ import annotations

DEFAULT_USER = {"Username": "smartplus", "Password": "rm-secret", "LocationID": 1}
LONG_AGO = "2020-01-01T00:00:00"

FIRST = ["Ava", "Ben", "Chloe", "Dan", "Ella", "Finn", "Grace", "Hugo", "Iris", "Jack", "Kara", "Liam"]
LAST = [
    "Adams",
    "Baker",
    "Clark",
    "Diaz",
    "Evans",
    "Foster",
    "Garcia",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
]


def empty(users=None) -> dict:
    return {
        "users": users or [dict(DEFAULT_USER)],
        "Properties": [],
        "Units": [],
        "Tenants": [],
        "Leases": [],
        "Contacts": [],
    }


def add_property(data: dict, property_id: int, name: str) -> dict:
    prop = {
        "PropertyID": property_id,
        "Name": name,
        "ShortName": name[:12].upper().replace(" ", ""),
        "IsActive": True,
        "Addresses": [
            {
                "Street": f"{property_id} Market Street",
                "City": "Philadelphia",
                "State": "PA",
                "PostalCode": "19103",
            }
        ],
    }
    data["Properties"].append(prop)
    return prop


def add_unit(data: dict, unit_id: int, property_id: int, name: str, floor: int) -> dict:
    unit = {
        "UnitID": unit_id,
        "PropertyID": property_id,
        "Name": name,
        "FloorID": floor,
        "Floor": {"FloorID": floor, "Name": str(floor)},
    }
    data["Units"].append(unit)
    return unit


def add_tenant(
    data: dict,
    tenant_id: int,
    unit: dict,
    first: str,
    last: str,
    *,
    email: str = "",
    mobile: str = "",
    applicant_type: str = "Primary",
    move_in: str = LONG_AGO,
    move_out: str | None = None,
) -> dict:
    tenant = {
        "TenantID": tenant_id,
        "PropertyID": unit["PropertyID"],
        "FirstName": first,
        "LastName": last,
        "Status": "Current",
    }
    data["Tenants"].append(tenant)
    data["Leases"].append(
        {
            "LeaseID": tenant_id,
            "TenantID": tenant_id,
            "UnitID": unit["UnitID"],
            "PropertyID": unit["PropertyID"],
            "MoveInDate": move_in,
            "MoveOutDate": move_out,
        }
    )
    add_contact(
        data,
        tenant_id * 10,
        tenant_id,
        first,
        last,
        email=email,
        mobile=mobile,
        applicant_type=applicant_type,
    )
    return tenant


def add_contact(
    data: dict,
    contact_id: int,
    tenant_id: int,
    first: str,
    last: str,
    *,
    email="",
    mobile="",
    applicant_type="Primary",
) -> dict:
    contact = {
        "ContactID": contact_id,
        "ParentID": tenant_id,
        "ParentType": "Tenant",
        "FirstName": first,
        "LastName": last,
        "Email": email,
        "ApplicantType": applicant_type,
        "IsPrimary": applicant_type == "Primary",
        "PhoneNumbers": (
            [{"PhoneNumberTypeID": 3, "PhoneNumber": mobile, "PhoneNumberType": {"Name": "Mobile"}}]
            if mobile
            else []
        ),
    }
    data["Contacts"].append(contact)
    return contact


def generate(properties: int, units: int, tenants: int, *, users=None) -> dict:
    """`properties` properties with `units` units between them (on floors of 10) and `tenants`
    tenants with current leases (the first one per unit, the rest sharing units), each with a
    Primary contact; every fifth tenant also has a Guarantor contact (not synced)."""
    data = empty(users)
    for p in range(1, properties + 1):
        add_property(data, p, f"Property {p}")
    unit_rows = []
    for u in range(1, units + 1):
        property_id = (u - 1) % properties + 1 if properties else 1
        index = (u - 1) // max(properties, 1)
        unit_rows.append(add_unit(data, u, property_id, f"Unit {index + 1:04d}", index // 10 + 1))
    for t in range(1, tenants + 1):
        if not unit_rows:
            break
        unit = unit_rows[(t - 1) % len(unit_rows)]
        first, last = FIRST[t % len(FIRST)], LAST[(t // len(FIRST)) % len(LAST)]
        add_tenant(
            data,
            t,
            unit,
            first,
            last,
            email=f"tenant{t}@tenants.example",
            mobile=f"215555{t % 10000:04d}",
        )
        if t % 5 == 0:
            add_contact(data, t * 10 + 1, t, "Gary", "Guarantor", applicant_type="Guarantor")
    return data
