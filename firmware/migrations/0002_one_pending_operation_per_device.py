from django.db import migrations, models
from django.utils import timezone


def cancel_duplicate_pending(apps, schema_editor):
    """Before the constraint: a device waiting in several Pending upgrades keeps the one due first;
    its other waiting operations are cancelled, with the reason shown on their upgrade."""
    Operation = apps.get_model("firmware", "UpgradeOperation")
    pending = Operation.objects.filter(status="pending", device__isnull=False).order_by(
        "device_id", "upgrade__scheduled_at", "upgrade_id", "pk"
    )
    seen, cancel = set(), []
    for pk, device_id in pending.values_list("pk", "device_id").iterator():
        if device_id in seen:
            cancel.append(pk)
        seen.add(device_id)
    Operation.objects.filter(pk__in=cancel).update(
        status="cancelled",
        reason="The device waits in another Pending upgrade, due earlier.",
        finished_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0003_device_chosen_model"),
        ("firmware", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(cancel_duplicate_pending, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="upgradeoperation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("device",),
                name="operation_one_pending_per_device",
                violation_error_message="This device already waits in another Pending upgrade.",
            ),
        ),
    ]
