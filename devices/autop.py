"""AutoP: the `Config.<Module>.<SECTION>.<Key> = value` lines of a device's configuration file.

Installers type commands into the Settings dialog ("Others", "One-Time AutoP"); this module
checks them line by line and renders the file a device pulls from /autop/<MAC>.cfg.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from .choices import RelayKind

# Config.Module.SECTION.Key = value: three dot-separated names after "Config", value to the end.
COMMAND_RE = re.compile(
    r"^Config\.(?P<module>[A-Za-z0-9_]+)\.(?P<section>[A-Za-z0-9_]+)\.(?P<key>[A-Za-z0-9_]+)"
    r"\s*=\s*(?P<value>[^\x00-\x1f\x7f]*)$"
)
MAX_LINES = 500
MAX_LINE_LENGTH = 512
EXAMPLE = "Config.Module.SECTION.Key = value"
RELAY_LETTERS = "ABCD"

# (device) -> list[Command]: the lines the apps above devices configure (pmportal: the Premium
# controls of the device's community), filled in their AppConfig.ready(). They come after the
# portal's own lines; the installer's commands still win on the same key.
line_providers: list[Callable] = []


def register_lines(provider: Callable) -> Callable:
    """Add `provider` once (ready() may run twice in tests)."""
    if provider not in line_providers:
        line_providers.append(provider)
    return provider


@dataclass(frozen=True)
class Command:
    key: str  # "Config.Module.SECTION.Key"
    value: str

    @property
    def line(self) -> str:
        return f"{self.key} = {self.value}".rstrip()


def parse(text: str) -> list[Command]:
    """The commands of an AutoP box, in order, duplicates dropped (the spec: "Duplicate commands
    will not be retained"). Blank lines and `#` comments are skipped.

    Raises ValidationError naming every bad line by its number; a key given twice with two
    different values is refused too, since only one of them could take effect.
    """
    errors: list[str] = []
    commands: dict[str, Command] = {}
    first_line: dict[str, int] = {}
    lines = (text or "").splitlines()
    if len(lines) > MAX_LINES:
        raise ValidationError(
            gettext("At most %(max)s lines, please (%(count)s given).")
            % {"max": MAX_LINES, "count": len(lines)}
        )
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE_LENGTH:
            errors.append(
                gettext("Line %(number)s: longer than %(max)s characters.")
                % {"number": number, "max": MAX_LINE_LENGTH}
            )
            continue
        match = COMMAND_RE.match(line)
        if match is None:
            errors.append(
                gettext("Line %(number)s: “%(line)s” is not a command of the form %(example)s.")
                % {"number": number, "line": line[:60], "example": EXAMPLE}
            )
            continue
        key = "Config.{module}.{section}.{key}".format(**match.groupdict())
        command = Command(key, match["value"].strip())
        if key in commands:
            if commands[key] != command:
                errors.append(
                    gettext(
                        "Line %(number)s: %(key)s is already set to “%(value)s” on line %(first)s; "
                        "keep one value."
                    )
                    % {"number": number, "key": key, "value": commands[key].value, "first": first_line[key]}
                )
            continue  # an exact duplicate: dropped
        commands[key] = command
        first_line[key] = number
    if errors:
        raise ValidationError(errors)
    return list(commands.values())


def normalise(text: str) -> str:
    """The box as stored: one command per line in the canonical form, duplicates dropped."""
    return "\n".join(c.line for c in parse(text))


def _clean(value: str) -> str:
    # Names are typed by installers; a line break would start a command of its own.
    return " ".join(str(value).split())


def device_lines(device, relays) -> list[Command]:
    """What the portal itself configures: the device name, its relays and the SIP transport."""
    lines = [Command("Config.DoorSetting.DEVICENODE.Location", _clean(device.name))]
    for relay in relays:
        if relay.kind == RelayKind.SECURITY:
            section, suffix = "SECURITYRELAY", ""
        else:
            section, suffix = "RELAY", RELAY_LETTERS[relay.index - 1]
        lines += [
            Command(f"Config.DoorSetting.{section}.Enable{suffix}", "1" if relay.enabled else "0"),
            Command(f"Config.DoorSetting.{section}.Name{suffix}", _clean(relay.name)),
            Command(f"Config.DoorSetting.{section}.DTMF{suffix}", relay.dtmf_code),
        ]
    lines.append(Command("Config.Account1.SIP.TransType", str(device.transport)))
    return lines


def render(device, relays, one_time: list[str]) -> str:
    """The AutoP file: the portal's lines, then the installer's commands (which win on the same
    key), then pending one-time commands. Each key appears once, except that a one-time command
    may set a key again: it is applied last, once."""
    ordered: dict[str, Command] = {c.key: c for c in device_lines(device, relays)}
    for provider in line_providers:
        ordered.update((c.key, c) for c in provider(device))
    for command in parse(device.autop_commands):
        ordered.pop(command.key, None)
        ordered[command.key] = command
    body = [c.line for c in ordered.values()]
    once = list(dict.fromkeys(c.line for text in one_time for c in parse(text)))
    header = [f"## SmartPlus AutoP for {device.mac_address.mac} ({_clean(device.name)})"]
    if once:
        body += ["## One-Time AutoP", *once]
    return "\n".join(header + body) + "\n"
