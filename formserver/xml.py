"""The one place that parses XML: no entities, no DTD, no network, no huge trees."""

from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


class UnsafeOrBadXml(ValueError):
    """Raised with a sentence that says what is wrong, for the person who sent the XML."""


def parse(content: bytes) -> etree._Element:
    """Parse ``content`` and return its root element; a document type declaration is refused."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        if error.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:  # libxml2's own message asks for XML_PARSE_HUGE
            line, column = error.position
            raise UnsafeOrBadXml(
                f"the XML is nested too deeply or too large to read (line {line}, column {column})"
            ) from None
        raise UnsafeOrBadXml(f"the XML is not well formed ({error.msg})") from None  # msg names line and column
    if root.getroottree().docinfo.doctype:
        raise UnsafeOrBadXml("the XML declares a document type (DOCTYPE), which is not accepted")
    return root


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname
