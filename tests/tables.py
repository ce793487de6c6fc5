"""Reading a rendered django-tables2 list as a user reads it, for view tests."""

from __future__ import annotations

import re


def rows(response) -> list[dict[str, str]]:
    """The table's rows as the user reads them: column header -> rendered cell text."""
    table = response.context["table"]
    headers = [column.header for column in table.columns]
    out = []
    for row in table.page.object_list:
        cells = [re.sub(r"<[^>]+>", "", str(value)).strip() for _, value in row.items()]
        out.append(dict(zip(headers, cells, strict=True)))
    return out
