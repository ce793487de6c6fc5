"""`manage.py seed_demo`: load the demo accounts and communities (safe to run again)."""

from django.core.management.base import BaseCommand

from demo import seed as demo
from smartplus import audit


class Command(BaseCommand):
    help = "Load demo data: distributor, installer, sub-installer, property manager, three communities."

    def handle(self, *args, **options):
        with audit.change_set():  # the whole seed is one change in the audit log
            demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for role, username, password in demo.DEMO_LOGINS:
            self.stdout.write(f"  {role:<30} {username:<28} {password}")
