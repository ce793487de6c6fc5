"""Door Log, Call History and Captured Images: the events devices send on the device API."""
