"""Family SIP Numbers: unique, from 6000000000, and handed out without serialising tenants.

Two imports into two communities in two concurrent transactions (real PostgreSQL, two threads
with their own connections): the second finishes while the first is still open, and their
numbers are disjoint. With a locked counter row the second would wait for the first's commit.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from communities.models import Community
from devices.template_import import COLUMNS, apply_import
from residents import services
from residents.models import Apartment
from tests.factories import CommunityFactory, build_world

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 5


def _rows(building: str) -> list[tuple[int, dict]]:
    cells = [
        {"Building": building, "Apt": str(100 + i), "FirstName": "Ann", "LastName": f"Lee{i}"}
        for i in range(ROWS)
    ]
    return [(n, {c: r.get(c) for c in COLUMNS}) for n, r in enumerate(cells, start=2)]


def _numbers(community: Community) -> set[int]:
    return {
        int(n)
        for n in Apartment.objects.filter(community=community).values_list("family_sip_number", flat=True)
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the sequence is PostgreSQL's")
def test_two_concurrent_imports_do_not_wait_for_each_others_numbers():
    w = build_world()
    first = CommunityFactory(installer=w.installer_a, name="First", number_of_apartments=50)
    second = CommunityFactory(installer=w.installer_b, name="Second", number_of_apartments=50)
    first_written, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def import_first():
        try:
            with transaction.atomic():
                apply_import(actor=w.installer_a, community=first, rows=_rows("North"))
                first_written.set()
                release.wait(timeout=30)  # still open: its numbers are taken, not committed
        except Exception as exc:  # reported by the main thread
            outcome["first"] = exc
            first_written.set()
        finally:
            connections.close_all()

    def import_second():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:  # a wait for the first's lock fails fast
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                apply_import(actor=w.installer_b, community=second, rows=_rows("South"))
            outcome["second"] = "done"
        except Exception as exc:
            outcome["second"] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=import_first)
    one.start()
    assert first_written.wait(timeout=60)
    two = threading.Thread(target=import_second)
    two.start()
    two.join(timeout=60)
    finished_while_first_open = not two.is_alive() and not release.is_set()
    release.set()
    one.join(timeout=60)
    two.join(timeout=60)

    assert "first" not in outcome, outcome
    assert outcome.get("second") == "done", outcome
    assert finished_while_first_open
    north, south = _numbers(first), _numbers(second)
    assert len(north) == len(south) == ROWS
    assert not north & south
    assert min(north | south) >= services.FAMILY_SIP_START


def test_numbers_are_unique_and_start_at_six_billion(db):
    numbers = [int(n) for n in services.family_sip_numbers(3) + services.family_sip_numbers(2)]
    assert len(set(numbers)) == 5
    assert min(numbers) >= services.FAMILY_SIP_START
