"""XML functions: xml (JSON object -> XML text) and xpath (XPath 1.0 over XML text, via lxml).

`xml` follows the JSON-to-XML mapping of Microsoft's function reference: the object has exactly one root
property; nested objects become child elements, arrays repeat their element, `@name` keys become attributes
and `#text` the element's text. `xpath` returns a number, text or boolean for scalar XPath results, the
serialized node for a single element match, and an array of serialized nodes (or texts) otherwise.
"""
from __future__ import annotations

import json as _json
from typing import Any

from lxml import etree

from ..errors import EvaluationError
from ..functions import function
from ..values import to_text


def _build(parent: etree._Element | None, name: str, value: Any) -> list[etree._Element]:
    if isinstance(value, list):
        return [element for item in value for element in _build(parent, name, item)]
    element = etree.Element(name) if parent is None else etree.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            if key.startswith("@"):
                element.set(key[1:], to_text(child))
            elif key == "#text":
                element.text = to_text(child)
            else:
                _build(element, key, child)
    elif value is not None:
        element.text = to_text(value)
    return [element]


@function("xml", "value: string|object")
def xml(value):
    if isinstance(value, str):
        try:
            value = _json.loads(value)
        except ValueError:
            raise EvaluationError(f"xml() needs a JSON object (or its text), got '{value[:60]}'") from None
    if not isinstance(value, dict) or len(value) != 1:
        raise EvaluationError("xml() needs a JSON object with exactly one root property, "
                              "for example {\"person\": {\"name\": \"Sophia\"}}")
    (name, body), = value.items()
    try:
        [root] = _build(None, name, body)
    except ValueError as exc:  # lxml rejects names that are not XML names
        raise EvaluationError(f"xml(): {exc}") from None
    return etree.tostring(root, encoding="unicode")


def _node_text(node: Any) -> Any:
    if isinstance(node, etree._Element):
        return etree.tostring(node, encoding="unicode", with_tail=False)
    return str(node)


@function("xpath", "xml: string", "xpath: string")
def xpath(xml_text, expression):
    try:
        document = etree.fromstring(xml_text.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise EvaluationError(f"xpath(): the first argument is not XML: {exc}") from None
    try:
        result = document.xpath(expression)
    except etree.XPathError as exc:
        raise EvaluationError(f"xpath(): '{expression}' is not a valid XPath expression: {exc}") from None
    if isinstance(result, bool):
        return result
    if isinstance(result, float):
        return int(result) if result.is_integer() else result
    if isinstance(result, str):
        return str(result)
    if len(result) == 1 and isinstance(result[0], etree._Element):
        return _node_text(result[0])
    return [_node_text(node) for node in result]
