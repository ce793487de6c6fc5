"""What devices tell the apps above them (devices imports none of them; they connect in ready()).

Both are sent synchronously inside the device API's transaction, so a receiver's writes commit or
roll back with the report, and an exception in a receiver fails the request as before.
"""

from django.dispatch import Signal

# A heartbeat brought a firmware version different from the stored one.
# Arguments: device_id (int), version (str, as stored).
firmware_version_reported = Signal()

# A device reported a command done or failed (sent once: a repeated report sends nothing).
# Arguments: command (DeviceCommand, locked, status/message/finished_at saved),
# firmware_version (str, what the device reported with the result; may be "").
command_reported = Signal()
