"""System checks of the portal's own safety preconditions (run by `manage.py check` and at start-up)."""

from __future__ import annotations

from django.core import checks


def xlsx_parser_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Uploaded workbooks are parsed by openpyxl; without defusedxml (or with lxml, which openpyxl
    then prefers) an entity bomb in an upload would be expanded instead of refused."""
    from smartplus import xlsx  # imported here so that ready() does not load openpyxl in every process

    if xlsx.defusedxml_active():
        return []
    return [
        checks.Error(
            "openpyxl does not parse uploaded workbooks through defusedxml, so XML entity bombs "
            "in an upload would not be refused.",
            hint="Install defusedxml and leave OPENPYXL_DEFUSEDXML unset; do not install lxml in this "
            "environment, or set the environment variable OPENPYXL_LXML=False.",
            id="smartplus.E001",
        )
    ]


def device_settings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A mistyped device network would otherwise surface only when a nudge runs; a deadline past
    the broker's visibility timeout would have its check delivered twice."""
    import ipaddress

    from django.conf import settings

    errors = []
    for network in settings.SMARTPLUS_DEVICE_NETWORKS:
        try:
            ipaddress.ip_network(network.strip(), strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f"SMARTPLUS_DEVICE_NETWORKS: {network!r} is not a network.",
                    hint="Give CIDR networks separated by commas, e.g. 10.20.0.0/16,192.168.50.0/24.",
                    id="smartplus.E002",
                )
            )
    modes = ("none", "allowlist", "basic", "digest")  # devices.lan.AUTH_MODES (a higher layer)
    mode = str(settings.SMARTPLUS_DEVICE_LAN_AUTH).lower()
    if mode not in modes:
        errors.append(
            checks.Error(
                f"SMARTPLUS_DEVICE_LAN_AUTH must be one of {', '.join(modes)}, not {mode!r}.",
                id="smartplus.E005",
            )
        )
    elif mode in ("basic", "digest") and not settings.SMARTPLUS_DEVICE_LAN_USERNAME:
        errors.append(
            checks.Error(
                f"SMARTPLUS_DEVICE_LAN_AUTH is {mode}: set SMARTPLUS_DEVICE_LAN_USERNAME and _PASSWORD.",
                id="smartplus.E006",
            )
        )
    liveness = settings.SMARTPLUS_DEVICE_LIVENESS
    if liveness not in ("database", "redis"):
        errors.append(
            checks.Error(
                f"SMARTPLUS_DEVICE_LIVENESS must be database or redis, not {liveness!r}.",
                id="smartplus.E007",
            )
        )
    elif liveness == "redis" and (
        not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        errors.append(
            checks.Error(
                "SMARTPLUS_DEVICE_LIVENESS is redis: it needs REDIS_URL and PostgreSQL.",
                id="smartplus.E008",
            )
        )
    period = settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL
    if not 0 <= period <= 5:
        errors.append(
            checks.Error(
                f"SMARTPLUS_DEVICE_LIVENESS_LOCAL is {period}: seconds between 0 (off) and 5 (commands "
                "queued elsewhere would wait that long for a heartbeat).",
                id="smartplus.E009",
            )
        )
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    deadline = settings.SMARTPLUS_UPGRADE_DEADLINE
    if deadline >= visibility:
        errors.append(
            checks.Error(
                f"SMARTPLUS_UPGRADE_DEADLINE ({deadline} s) must be below the "
                f"broker's visibility timeout ({visibility} s).",
                id="smartplus.E003",
            )
        )
    return errors


def trusted_proxies_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Behind a reverse proxy REMOTE_ADDR is the proxy's: without the number of proxies, 30
    failed logins a minute from anyone would refuse logins to everyone."""
    from django.conf import settings

    hops = settings.SMARTPLUS_TRUSTED_PROXIES
    if isinstance(hops, int) and hops >= 0:
        return []
    return [
        checks.Error(
            "SMARTPLUS_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
            f"portal, not {hops!r}.",
            hint="1 for the Caddy or nginx of docs/deploy.md (the client's address is then read from "
            "X-Forwarded-For), 0 when clients connect to gunicorn directly.",
            id="smartplus.E004",
        )
    ]
