"""Stripe's form encoding of nested parameters, decoded: `a[b][0][c]=x` → {"a": {"b": [{"c": "x"}]}}.

The SDK (stripe/_encode.py) writes lists as `key[0]`, `key[1]`...; curl users write `key[]`. Both decode
to lists. Values stay strings, as on the wire; the endpoint that reads them converts them.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from .errors import StripeError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def decode(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise StripeError(400, f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            if part == "":  # `key[]` appends
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise StripeError(400, f"Invalid value for {key}: it is a hash elsewhere", param=key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeError(400, f"Invalid value for {key}: it is a string elsewhere", param=key)
                node = child
    return _listify(root)


def _listify(node):
    """Dicts keyed 0..n-1 become lists (the array encoding); everything else keeps its shape."""
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        indexes = sorted(items, key=int)
        if [int(key) for key in indexes] == list(range(len(indexes))):
            return [items[key] for key in indexes]
    return items
