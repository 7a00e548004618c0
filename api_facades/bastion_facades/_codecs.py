"""Codecs: how bodies are read from and written to one legacy system (JSON, XML).

XML is parsed with ``defusedxml`` and refuses DTDs, entity declarations and external references,
so a hostile or broken back end cannot make the facade read local files or expand a
"billion laughs" entity bomb (OWASP XXE Prevention Cheat Sheet).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import defusedxml
import defusedxml.ElementTree

from bastion_facades._errors import FacadeError
from bastion_facades._types import JsonValue


class CodecError(FacadeError):
    """A body could not be decoded or encoded; the client turns it into an :class:`UpstreamError`.

    Attributes:
        reason: What was wrong, in words safe to show (no back-end text).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Codec(Protocol):
    """Reads and writes bodies of one legacy system."""

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of request bodies (also sent as ``Accept``)."""
        ...

    def decode(self, content: bytes) -> JsonValue:
        """The body as JSON values.

        Raises:
            CodecError: The body is unreadable or refused.
        """
        ...

    def encode(self, body: JsonValue) -> bytes:
        """A request body from JSON values."""
        ...


@dataclass(frozen=True)
class JsonCodec:
    """JSON bodies (UTF-8)."""

    content_type: str = "application/json"

    def decode(self, content: bytes) -> JsonValue:
        """See :class:`Codec`."""
        if not content.strip():
            return None
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise CodecError("the response is not valid JSON") from None

    def encode(self, body: JsonValue) -> bytes:
        """See :class:`Codec` (compact, non-ASCII kept, NaN refused - as httpx's ``json=``)."""
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True)
class XmlCodec:
    """XML bodies, read into JSON values and written from them.

    Reading: the root element becomes ``{root_tag: value}``. An element with neither attributes nor
    children is its text (``None`` if empty); otherwise an object with attributes as ``@name``,
    children by tag (repeated tags, and tags listed in ``list_tags``, become arrays) and any
    non-blank text as ``#text``. Writing: ``{root: {...}}`` mirrors that (lists repeat the tag).

    Attributes:
        list_tags: Tags that are always arrays, even with one element.
        content_type: Request body media type.
    """

    list_tags: Collection[str] = field(default_factory=frozenset[str])
    content_type: str = "application/xml"

    def decode(self, content: bytes) -> JsonValue:
        """See :class:`Codec`.

        Raises:
            CodecError: Not well-formed XML, or it declares a DTD, entities or external references.
        """
        if not content.strip():
            return None
        try:
            root = defusedxml.ElementTree.fromstring(
                content, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except defusedxml.DefusedXmlException:
            raise CodecError(
                "the XML response declares a DTD, entities or external references, which are refused"
            ) from None
        except ParseError:
            raise CodecError("the response is not well-formed XML") from None
        return {root.tag: self._element(root)}

    def _element(self, element: Element) -> JsonValue:
        children = list(element)
        text = (element.text or "").strip()
        if not children and not element.attrib:
            return element.text if element.text is not None and text else None
        out: dict[str, JsonValue] = {f"@{k}": v for k, v in element.attrib.items()}
        for child in children:
            value = self._element(child)
            if child.tag in out:
                existing = out[child.tag]
                if isinstance(existing, list):  # element values are never lists: this is our array
                    existing.append(value)
                else:
                    out[child.tag] = [existing, value]
            else:
                out[child.tag] = [value] if child.tag in self.list_tags else value
        if text:
            out["#text"] = text
        return out

    def encode(self, body: JsonValue) -> bytes:
        """See :class:`Codec`.

        Raises:
            CodecError: ``body`` is not an object with exactly one key (the root tag).
        """
        if not isinstance(body, dict) or len(body) != 1:
            raise CodecError("an XML body must be an object with exactly one key, the root tag")
        ((tag, value),) = body.items()
        root = Element(tag)
        _fill(root, value)
        return tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(element: Element, value: JsonValue) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if key.startswith("@"):
                element.set(key[1:], _text(child))
            elif key == "#text":
                element.text = _text(child)
            elif isinstance(child, list):
                for each in child:
                    _fill(SubElement(element, key), each)
            else:
                _fill(SubElement(element, key), child)
    elif value is not None:
        element.text = _text(value)


def _text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
