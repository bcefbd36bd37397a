"""Files sent to browsers: a safe file name, never cached, never sniffed, and refusals with a way back."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response, render_template

# Types a browser may show inside our pages; anything else is downloaded, never rendered
# (an HTML or SVG "photo" from a phone must not run as a page of this site).
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/mpeg", "audio/ogg", "audio/amr",
                "audio/mp4", "audio/x-m4a", "audio/wav", "video/mp4", "video/3gpp", "video/webm", "application/pdf"}


def ascii_name(filename: str) -> str:
    """A plain ASCII stand-in for old browsers: letters, digits, dot, dash, underscore."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("._") or "file"
    return plain[:150]


def content_disposition(filename: str, inline: bool = False) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c >= " " and c not in '"\x7f') or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def private_headers(response: Response, filename: str, *, inline: bool = False) -> Response:
    response.headers["Content-Disposition"] = content_disposition(filename, inline)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: no scripts, no plugins, not framed.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response


def send_bytes(content: bytes, filename: str, content_type: str, *, inline: bool = False) -> Response:
    response = Response(content, mimetype=content_type)
    return private_headers(response, filename, inline=inline)


def refuse(message: str, back: str | None = None, status: int = 400):
    return render_template("error.html", status=status, message=message, back=back), status
