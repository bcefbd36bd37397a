"""The OpenRosa XML answers, kept apart from the routes (as ODK Central keeps lib/formats/openrosa.js).

Each function returns the exact bytes of one kind of answer. Every text is
escaped; URLs are given already absolute and percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class ListedForm:
    form_id: str
    name: str
    version: str | None
    md5: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True)
class ManifestFile:
    filename: str
    md5: str
    download_url: str


def form_list(forms: list[ListedForm]) -> bytes:
    """``<xforms>``: one ``<xform>`` per form a phone may download; ``manifestUrl`` only when it has media."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="{XFORMS_LIST_NS}">\n']
    for form in forms:
        parts.append(
            "  <xform>\n"
            f"    <formID>{escape(form.form_id)}</formID>\n"
            f"    <name>{escape(form.name)}</name>\n"
            f"    <version>{escape(form.version or '')}</version>\n"
            f"    <hash>md5:{form.md5}</hash>\n"
            f"    <downloadUrl>{escape(form.download_url)}</downloadUrl>\n"
        )
        if form.manifest_url:
            parts.append(f"    <manifestUrl>{escape(form.manifest_url)}</manifestUrl>\n")
        parts.append("  </xform>\n")
    parts.append("</xforms>\n")
    return "".join(parts).encode("utf-8")


def manifest(files: list[ManifestFile]) -> bytes:
    """``<manifest>``: each media file with its md5 and where to get it."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{MANIFEST_NS}">\n']
    for media in files:
        parts.append(
            "  <mediaFile>\n"
            f"    <filename>{escape(media.filename)}</filename>\n"
            f"    <hash>md5:{media.md5}</hash>\n"
            f"    <downloadUrl>{escape(media.download_url)}</downloadUrl>\n"
            "  </mediaFile>\n"
        )
    parts.append("</manifest>\n")
    return "".join(parts).encode("utf-8")


def openrosa_response(message: str, *, nature: str = "submit_success") -> bytes:
    """``<OpenRosaResponse>`` with one unprefixed ``<message>``: Collect shows its text to the enumerator."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OpenRosaResponse xmlns="{RESPONSE_NS}">'
        f'<message nature="{escape(nature)}">{escape(message)}</message></OpenRosaResponse>\n'
    ).encode("utf-8")
