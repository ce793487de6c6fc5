"""`manage.py recount_communities`: recompute the stored apartment and end-user counters."""

from django.core.management.base import BaseCommand

from communities.models import Community
from residents.services import community_recount


class Command(BaseCommand):
    help = "Recompute each community's Apartment and End User counters from the rows."

    def add_arguments(self, parser):
        parser.add_argument(
            "community_ids", nargs="*", type=int, help="Only these communities (default: all)."
        )

    def handle(self, *args, community_ids, **options):
        communities = Community.objects.all()
        if community_ids:
            communities = communities.filter(pk__in=community_ids)
        fixed = 0
        for pk, apartments, end_users in communities.values_list("pk", "apartment_count", "end_user_count"):
            community_recount(community_id=pk)
            after = Community.objects.filter(pk=pk).values_list("apartment_count", "end_user_count").get()
            if after != (apartments, end_users):
                fixed += 1
                self.stdout.write(f"community {pk}: {apartments}/{end_users} -> {after[0]}/{after[1]}")
        self.stdout.write(self.style.SUCCESS(f"Counters checked; {fixed} community(ies) corrected."))
