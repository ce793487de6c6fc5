"""Simulated Akuvox intercoms speaking the device API (docs/device-api.md) to a portal.

    sim = Simulator("http://127.0.0.1:8000", specs_for(100), dead_percent=10, interval=1)
    sim.start()     # every live device registered
    sim.truth()     # {mac: {"firmware_version", "online", "commands", ...}}
    sim.stop()

`python -m devices.simulator --help` runs the same from the command line. Needs no Django settings.
"""

from .runner import Simulator, SimulatorError
from .spec import DeviceSpec, specs_for

__all__ = ["DeviceSpec", "Simulator", "SimulatorError", "specs_for"]
