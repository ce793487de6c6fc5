"""`manage.py seed_demo`: load the demo accounts and communities (safe to run again)."""

from django.core.management.base import BaseCommand

from demo import seed as demo


class Command(BaseCommand):
    help = "Load demo data: distributor, installer, sub-installer, property manager, three communities."

    def handle(self, *args, **options):
        demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for role, username, password in demo.DEMO_LOGINS:
            self.stdout.write(f"  {role:<30} {username:<28} {password}")
