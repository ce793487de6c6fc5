"""Delete uploaded templates that were never imported, after a number of days (default 7)."""

from django.core.management.base import BaseCommand

from smartplus import importing


class Command(BaseCommand):
    help = (
        "Delete the imports that were rejected, failed or never confirmed, uploaded more than "
        "--days days ago, with their stored files. Done imports are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="age in days (default 7)")

    def handle(self, *args, days: int, **options):
        if days < 0:
            self.stderr.write("--days must be 0 or more.")
            raise SystemExit(2)
        for kind, count in importing.purge(days=days).items():
            self.stdout.write(f"{kind}: {count} deleted")
