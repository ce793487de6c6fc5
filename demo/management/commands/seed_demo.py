"""`manage.py seed_demo`: load the demo accounts and communities (safe to run again)."""

from django.core.management.base import BaseCommand

from demo import seed as demo
from smartplus import audit


class Command(BaseCommand):
    help = "Load demo data: distributor, installer, sub-installer, property manager, three communities."

    def add_arguments(self, parser):
        parser.add_argument(
            "--devices",
            type=int,
            default=0,
            metavar="N",
            help="add public door phones until the demo has N devices (rundemo simulates them all)",
        )

    def handle(self, *args, devices: int, **options):
        with audit.change_set():  # the whole seed is one change in the audit log
            demo.seed()
            added = demo.seed_fleet(devices) if devices else 0
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if added:
            self.stdout.write(f"  {added} fleet door phones added to {demo.FLEET_COMMUNITY}.")
        for role, username, password in demo.DEMO_LOGINS:
            self.stdout.write(f"  {role:<30} {username:<28} {password}")
