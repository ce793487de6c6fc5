"""Helpers of the query-count tests: capture a page's queries, and read what they did."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

PER_PAGE = 10  # the first "Lines per page" choice, the default


def pages(rows: int, per_page: int = PER_PAGE) -> int:
    return -(-rows // per_page)


def get_captured(client, url: str, params: dict | None = None):
    """GET once to warm caches (content types, session), then again with the queries captured."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response, [query["sql"] for query in ctx.captured_queries]


def counts(queries: list[str]) -> list[str]:
    """The COUNT queries among them."""
    return [sql for sql in queries if "COUNT(" in sql.upper()]


def offsets(queries: list[str]) -> list[int]:
    return [int(n) for sql in queries for n in re.findall(r"\bOFFSET (\d+)", sql)]


def list_query_counts(client, cases: dict) -> dict[str, int]:
    """{case: number of queries} for list pages given as {case: (url, params, expected row count or None)}."""
    result = {}
    for case, (url, params, rows) in cases.items():
        response, queries = get_captured(client, url, params)
        table = response.context["table"]
        assert table.page.number == params.get("page", 1), case
        assert table.page.object_list, f"{case}: an empty page proves nothing"
        if rows is not None:
            assert table.paginator.count == rows, case
        result[case] = len(queries)
    return result
