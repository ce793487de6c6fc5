"""Current weather for communities with an address, sent to eligible indoor monitors."""
