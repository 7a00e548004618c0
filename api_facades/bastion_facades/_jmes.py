"""JMESPath with the few functions response projection needs and the standard lacks.

Custom functions (registered through ``jmespath.functions.Functions``, as the JMESPath docs show):

* ``from_items(pairs)`` - an object from ``[[key, value], ...]`` (later keys win); null gives ``{}``.
* ``lower(s)`` / ``upper(s)`` - the string lower/upper-cased; null stays null.
* ``compact(obj)`` - ``obj`` without its null-valued keys; ``compact_keys(obj, keys)`` drops only
  the listed keys when null (the others stay, null or not).
* ``trim_prefix(s, prefix)`` - ``s`` without a leading ``prefix`` (unchanged if absent).
* ``lookup(obj, keys, default)`` - ``[obj[k] ?? default for k in keys]``, to join two responses.
* ``zip(a, b)`` - ``[[a0, b0], [a1, b1], ...]`` (as long as the shorter).

Idea: JMESPath specification, https://jmespath.org/specification.html#functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import jmespath
import jmespath.exceptions
import jmespath.functions
import jmespath.parser

from bastion_facades._errors import ConfigurationError


class _Functions(jmespath.functions.Functions):
    @jmespath.functions.signature({"types": ["array", "null"]})
    def _func_from_items(self, pairs: list[Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for pair in pairs or []:
            if not isinstance(pair, list) or len(cast(list[Any], pair)) != 2:
                raise jmespath.exceptions.JMESPathTypeError("from_items", pair, "array", ["[key, value]"])
            key, value = cast(list[Any], pair)
            out[str(key)] = value
        return out

    @jmespath.functions.signature({"types": ["string", "null"]})
    def _func_lower(self, value: str | None) -> str | None:
        return None if value is None else value.lower()

    @jmespath.functions.signature({"types": ["string", "null"]})
    def _func_upper(self, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @jmespath.functions.signature({"types": ["object", "null"]})
    def _func_compact(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else {k: v for k, v in value.items() if v is not None}

    @jmespath.functions.signature({"types": ["object", "null"]}, {"types": ["array"]})
    def _func_compact_keys(self, value: dict[str, Any] | None, keys: list[Any]) -> dict[str, Any] | None:
        if value is None:
            return None
        droppable = {str(k) for k in keys}
        return {k: v for k, v in value.items() if v is not None or k not in droppable}

    @jmespath.functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_trim_prefix(self, value: str | None, prefix: str) -> str | None:
        return None if value is None else value.removeprefix(prefix)

    @jmespath.functions.signature({"types": ["object", "null"]}, {"types": ["array", "null"]}, {"types": []})
    def _func_lookup(self, mapping: dict[str, Any] | None, keys: list[Any] | None, default: Any) -> list[Any]:
        table = mapping or {}
        return [table.get(str(k), default) if isinstance(k, str | int) else default for k in keys or []]

    @jmespath.functions.signature({"types": ["array", "null"]}, {"types": ["array", "null"]})
    def _func_zip(self, first: list[Any] | None, second: list[Any] | None) -> list[list[Any]]:
        return [[a, b] for a, b in zip(first or [], second or [], strict=False)]


_OPTIONS = jmespath.Options(custom_functions=_Functions())


@dataclass(frozen=True)
class Expression:
    """A compiled JMESPath expression that knows Bastion's custom functions.

    Attributes:
        source: The expression text.

    Raises:
        ConfigurationError: The text is not valid JMESPath (raised at construction).
    """

    source: str
    _parsed: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            parsed = jmespath.compile(self.source)
        except jmespath.exceptions.JMESPathError as exc:
            raise ConfigurationError(f"invalid JMESPath {self.source!r}: {_first_line(exc)}") from None
        object.__setattr__(self, "_parsed", parsed)

    def search(self, data: Any) -> Any:
        """Evaluate on ``data`` (JSON values).

        Raises:
            ConfigurationError: The expression failed at run time (a wrong type for a function); the
                declaration does not fit the data.
        """
        try:
            return cast(jmespath.parser.ParsedResult, self._parsed).search(data, options=_OPTIONS)
        except jmespath.exceptions.JMESPathError as exc:
            raise ConfigurationError(f"JMESPath {self.source!r} failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def compile_all(expressions: Mapping[str, str]) -> dict[str, Expression]:
    """Compile several named expressions (output name -> expression)."""
    return {name: Expression(text) for name, text in expressions.items()}
