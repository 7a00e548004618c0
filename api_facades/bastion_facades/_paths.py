"""Path templates whose parameters can never change the endpoint.

Each parameter becomes exactly one path segment: it is percent-encoded with no safe characters
(``/`` becomes ``%2F``) and every ``.`` becomes ``%2E``, so ``.``, ``..`` or ``../x`` cannot be
normalised into another path by a client, proxy or server (RFC 3986 section 5.2.4 removes dot
segments only when they are literal dots). Empty values are refused: ``/items/`` would name the
collection instead of one item.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import quote

from bastion_facades._errors import ConfigurationError, ToolCallError


def encode_segment(value: str) -> str:
    """``value`` as one opaque path segment (``quote(safe='')`` plus ``.`` -> ``%2E``).

    Raises:
        ToolCallError: ``value`` is empty.
    """
    if value == "":
        raise ToolCallError("An id in the request is empty. Give the id exactly as shown and try again.")
    return quote(value, safe="").replace(".", "%2E")


def placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of a path template, in order.

    Raises:
        ConfigurationError: A placeholder with a format spec/conversion, or an unnamed one.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigurationError(f"path template {template!r} is malformed: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ConfigurationError(f"path template {template!r}: use plain {{name}} placeholders")
        names.append(name)
    return names


def render_path(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template``'s placeholders, each value encoded as one segment.

    Raises:
        ToolCallError: A value is empty.
    """
    return template.format_map({name: encode_segment(value) for name, value in values.items()})
