from django.db import migrations

# docs/billing.md: the default prices, in cents of SMARTPLUS_CURRENCY (USD by default).
DEFAULTS = {
    "activation_fee": 1200,
    "activation_months": 12,
    "monthly_fee": 100,
    "pm_app_monthly_fee": 100,
    "additional_app_monthly_fee": 50,
    "premium_monthly_fee": 2000,
}


def create_default(apps, schema_editor):
    PriceList = apps.get_model("billing", "PriceList")
    if not PriceList.objects.filter(is_default=True).exists():
        PriceList.objects.create(distributor=None, is_default=True, **DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
