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
