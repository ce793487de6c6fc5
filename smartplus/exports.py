"""A list page's table as export rows: the columns on screen (minus the action buttons), the text
each cell shows, every row of the filtered and sorted queryset read once through a cursor."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone, translation
from django.utils.text import slugify
from django_tables2.data import TableQuerysetData

# Rows fetched per round trip. A list's prefetch_related (the dashboard's property managers, a
# camera's door phones) runs once per chunk, so a list this long or shorter costs the same queries.
CHUNK_SIZE = 2_000


class StreamedQuerysetData(TableQuerysetData):
    """Table data that reads its (ordered) queryset through a server-side cursor, chunk by chunk,
    so an export of 100,000 rows never holds them all as model instances."""

    def __iter__(self):
        return self.data.iterator(chunk_size=CHUNK_SIZE)


def table_rows(table) -> Iterator[list]:
    """The header row, then one row per record: the table's visible columns except those excluded
    from export (the action buttons). Values come from `value_<column>`, else the column."""
    hidden = [column.name for column in table.columns.iterall() if not column.visible]
    rows = table.as_values(exclude_columns=hidden)
    # The headers stay as the spec prints them whatever the UI language (the columns' verbose
    # names are translated on the page); the cells are the text the page shows.
    with translation.override(settings.LANGUAGE_CODE):
        header = next(rows)
    yield header
    yield from rows


def filename(*parts: str) -> str:
    """ "alpha-gardens-residents-20250131-1704.xlsx": the parts slugified (ASCII, as a header must
    be), then the time in the actor's time zone."""
    stem = "-".join(filter(None, (slugify(part) for part in parts))) or "export"
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
