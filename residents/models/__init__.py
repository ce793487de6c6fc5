"""Residents' models: apartments and end users, their access credentials, and their logs."""

from .access import AccessCredential
from .apartments import Apartment, Resident
from .imports import ResidentImport
from .logs import Alarm, CallHistory, DoorLog, Message

__all__ = [
    "AccessCredential",
    "Alarm",
    "Apartment",
    "CallHistory",
    "DoorLog",
    "Message",
    "Resident",
    "ResidentImport",
]
