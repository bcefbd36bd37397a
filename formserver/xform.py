"""Reading an XForm: its id, version, title, languages, media and the field tree.

The field tree is what exports, pages and ingest share: every node of the
primary instance in document order, each with its kind (group, repeat or
field), its bind type, its labels per language and, for selects, its choices.
It is derived from the stored XForm and can always be derived again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .xml import local_name, parse

XF = "http://www.w3.org/2002/xforms"
H = "http://www.w3.org/1999/xhtml"
JR = "http://openrosa.org/javarosa"
NS = {"xf": XF, "h": H}
DEFAULT_LANGUAGE = "default"

_MEDIA_URI = re.compile(r"jr://(?:images|audio|video|file|file-csv)/([^\s\"'<>)]+)")
_ITEXT_REF = re.compile(r"jr:itext\(\s*'([^']*)'\s*\)")


@dataclass(frozen=True)
class XFormSummary:
    form_id: str
    version: str | None
    title: str
    root_name: str


class XFormError(ValueError):
    """The XML is not an XForm this server can serve."""


def summarise(xform: bytes) -> XFormSummary:
    root = parse(xform)
    title = root.find("h:head/h:title", NS)
    instance_root = _primary_instance_root(root)
    form_id = instance_root.get("id")
    if not form_id:
        raise XFormError("the primary instance's root element has no id attribute")
    return XFormSummary(
        form_id=form_id,
        version=instance_root.get("version") or None,
        title=(title.text or "").strip() if title is not None else form_id,
        root_name=local_name(instance_root),
    )


def expected_media(xform: bytes) -> list[str]:
    """The file names the form refers to with jr:// URIs, sorted, each once."""
    return sorted({m.group(1).rsplit("/", 1)[-1] for m in _MEDIA_URI.finditer(xform.decode("utf-8"))})


def public_key(xform: bytes) -> str | None:
    """The key phones encrypt submissions with: the model's ``<submission base64RsaPublicKey>``."""
    model = parse(xform).find("h:head/xf:model", NS)
    submission = model.find("xf:submission", NS) if model is not None else None
    key = (submission.get("base64RsaPublicKey") or "").strip() if submission is not None else ""
    return key or None


def _primary_instance_root(root: etree._Element) -> etree._Element:
    model = root.find("h:head/xf:model", NS)
    if model is None:
        raise XFormError("the XForm has no h:head/model")
    for instance in model.findall("xf:instance", NS):
        if instance.get("id") is None:
            children = [c for c in instance if isinstance(c.tag, str)]
            if children:
                return children[0]
    raise XFormError("the XForm has no primary instance")


def field_tree(xform: bytes) -> dict:
    """The field tree of an XForm, as plain JSON-ready data."""
    root = parse(xform)
    model = root.find("h:head/xf:model", NS)
    instance_root = _primary_instance_root(root)
    translations = _translations(model)
    languages = list(translations) or [DEFAULT_LANGUAGE]
    binds = {b.get("nodeset"): b for b in model.findall("xf:bind", NS)}
    controls = _controls_by_ref(root.find("h:body", NS))
    secondary = {i.get("id"): i for i in model.findall("xf:instance", NS) if i.get("id")}
    reader = _TreeReader(translations, binds, controls, secondary, languages)
    summary = summarise(xform)
    default = _default_language(model, languages)
    return {
        "form_id": summary.form_id,
        "version": summary.version,
        "title": summary.title,
        "root": summary.root_name,
        "languages": languages,
        "default_language": default,
        "fields": reader.children(instance_root, "/" + local_name(instance_root)),
    }


def _default_language(model, languages: list[str]) -> str:
    for translation in model.findall("xf:itext/xf:translation", NS):
        if translation.get("default") in ("true()", "true"):
            return translation.get("lang")
    return languages[0]


def _translations(model) -> dict[str, dict[str, dict[str, str]]]:
    """lang -> itext id -> form ('long', 'image', ...) -> text."""
    result: dict[str, dict[str, dict[str, str]]] = {}
    for translation in model.findall("xf:itext/xf:translation", NS):
        texts = result.setdefault(translation.get("lang"), {})
        for text in translation.findall("xf:text", NS):
            forms = texts.setdefault(text.get("id"), {})
            for value in text.findall("xf:value", NS):
                forms[value.get("form") or "long"] = _inner_text(value)
    return result


def _inner_text(element) -> str:
    """Text of a label or value, with <output value="${x}"/> shown as ${x}'s path."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and local_name(child) == "output":
            parts.append("${" + (child.get("value") or "").rsplit("/", 1)[-1] + "}")
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _controls_by_ref(body) -> dict[str, etree._Element]:
    controls: dict[str, etree._Element] = {}
    if body is None:
        return controls
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        ref = element.get("ref") or element.get("nodeset")
        if ref and ref.startswith("/"):
            kind = local_name(element)
            # A repeat's label sits on the group around it: keep the group, remember the repeat.
            if kind == "repeat":
                controls.setdefault(ref, element.getparent() if local_name(element.getparent()) == "group" else element)
                controls[ref + "#repeat"] = element
            else:
                controls.setdefault(ref, element)
    return controls


class _TreeReader:
    def __init__(self, translations, binds, controls, secondary, languages):
        self.translations = translations
        self.binds = binds
        self.controls = controls
        self.secondary = secondary
        self.languages = languages

    def children(self, element, path: str) -> list[dict]:
        nodes, seen = [], set()
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = local_name(child)
            if name in seen:  # repeat templates and their instances share a name
                continue
            seen.add(name)
            nodes.append(self.node(child, f"{path}/{name}"))
        return nodes

    def node(self, element, path: str) -> dict:
        bind = self.binds.get(path)
        control = self.controls.get(path)
        is_repeat = path + "#repeat" in self.controls
        has_children = any(isinstance(c.tag, str) for c in element)
        node: dict = {"name": local_name(element), "path": path}
        if is_repeat:
            node["kind"] = "repeat"
        elif has_children:
            node["kind"] = "group"
        else:
            node["kind"] = "field"
            node["type"] = bind.get("type", "string") if bind is not None else "string"
            if _is_select(control):
                node["type"] = "select1" if local_name(control) == "select1" else "select"
        if control is not None:
            node["labels"] = self.labels(control.find("xf:label", NS))
            hints = self.labels(control.find("xf:hint", NS))
            if any(hints.values()):
                node["hints"] = hints
            if control.get("appearance"):
                node["appearance"] = control.get("appearance")
            if node["kind"] == "field":
                node["control"] = local_name(control)
                if _is_select(control):
                    node["choices"] = self.choices(control)
                if control.get("mediatype"):
                    node["mediatype"] = control.get("mediatype")
        if bind is not None:
            for attribute in ("relevant", "required", "constraint", "calculate", "readonly"):
                if bind.get(attribute):
                    node[attribute] = bind.get(attribute)
            message = self.labels_from_attribute(bind.get(f"{{{JR}}}constraintMsg"))
            if message:
                node["constraint_message"] = message
        if node["kind"] != "field":
            node["children"] = self.children(element, path)
        return node

    def labels(self, label) -> dict[str, str]:
        if label is None:
            return {}
        ref = label.get("ref")
        match = _ITEXT_REF.search(ref or "")
        if match:
            return self.itext(match.group(1))
        text = _inner_text(label)
        return {language: text for language in self.languages} if text else {}

    def labels_from_attribute(self, value: str | None) -> dict[str, str]:
        if not value:
            return {}
        match = _ITEXT_REF.search(value)
        if match:
            return self.itext(match.group(1))
        return {language: value for language in self.languages}

    def itext(self, text_id: str) -> dict[str, str]:
        result = {}
        for language, texts in self.translations.items():
            forms = texts.get(text_id, {})
            text = forms.get("long") or forms.get("short") or ""
            if text:
                result[language] = text
        return result

    def choices(self, control) -> list[dict]:
        items = control.findall("xf:item", NS)
        if items:
            return [
                {"name": (item.findtext("xf:value", "", NS) or "").strip(), "labels": self.labels(item.find("xf:label", NS))}
                for item in items
            ]
        itemset = control.find("xf:itemset", NS)
        if itemset is None:
            return []
        match = re.match(r"\s*instance\(\s*'([^']+)'\s*\)", itemset.get("nodeset", ""))
        instance = self.secondary.get(match.group(1)) if match else None
        if instance is None or instance.get("src"):
            return []  # choices from a CSV or GeoJSON file: not known to the form itself
        value = itemset.find("xf:value", NS)
        value_ref = value.get("ref") if value is not None else "name"
        label = itemset.find("xf:label", NS)
        label_ref = label.get("ref") if label is not None else "label"
        choices = []
        for item in instance.iter():
            if not isinstance(item.tag, str) or local_name(item) != "item":
                continue
            values = {local_name(c): (c.text or "") for c in item if isinstance(c.tag, str)}
            if label_ref.startswith("jr:itext"):
                labels = self.itext(values.get("itextId", ""))
            else:
                text = values.get(label_ref, "")
                labels = {language: text for language in self.languages} if text else {}
            choices.append({"name": values.get(value_ref, "").strip(), "labels": labels})
        return choices


def _is_select(control) -> bool:
    return control is not None and local_name(control) in ("select1", "select", "odk:rank", "rank")


def iter_fields(nodes: list[dict]):
    """Every node of the tree in document order, depth first."""
    for node in nodes:
        yield node
        yield from iter_fields(node.get("children", []))
