"""Family SIP Numbers from a PostgreSQL sequence: `nextval` hands out numbers without a row lock,
so concurrent imports and Add APTs never wait for each other (SQLite, the demo, keeps
smartplus.NumberSequence). The sequence starts after every number handed out so far."""

from django.db import migrations

SEQUENCE = "residents_family_sip_number"
START = 6_000_000_000


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Apartment = apps.get_model("residents", "Apartment")
    NumberSequence = apps.get_model("smartplus", "NumberSequence")
    start = START
    row = NumberSequence.objects.filter(name="family_sip").first()
    if row is not None:
        start = max(start, row.next_value)
    numbers = [int(n) for n in Apartment.objects.values_list("family_sip_number", flat=True) if n.isdigit()]
    if numbers:
        start = max(start, max(numbers) + 1)
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START WITH {int(start)} MINVALUE {START}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("residents", "0005_resident_app_password_reset"), ("smartplus", "0002_residents_module")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
