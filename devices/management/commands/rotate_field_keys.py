"""`manage.py rotate_field_keys`: re-encrypt the secrets stored at rest with the first key of
SMARTPLUS_FIELD_KEYS (docs/operations.md, "Secrets at rest and key rotation")."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from devices.services import rotate_camera_passwords
from smartplus.crypto import UndecryptableError


class Command(BaseCommand):
    help = (
        "Re-encrypt every third-party camera password and provisioning code with the first key of "
        "SMARTPLUS_FIELD_KEYS. "
        "Safe to run again: secrets already under the first key are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default: 500)."
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            changed = rotate_camera_passwords(batch_size=batch_size)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except UndecryptableError as exc:
            # Batches before the failing one stay rotated; nothing was lost, rerun with the old key.
            raise CommandError(
                f"{exc} Put back the key that encrypted it (after the new one) and run this again."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {changed} camera password(s) and provisioning code(s) with the first key of "
                "SMARTPLUS_FIELD_KEYS."
            )
        )
