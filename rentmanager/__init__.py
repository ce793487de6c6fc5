"""The Rent Manager 12 integration: connections, the daily sync and its log."""
