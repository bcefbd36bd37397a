"""What a phone sends is shown as text: markup in answers, names and comments never becomes part of a page.

Anyone with a device account's URL can send any answer, and coordinators open those answers in
their browser while signed in; a script there would act with their session. Jinja escapes every
value, and no template marks one safe; this checks it where phone text lands (the table, the record,
the comments) so that a template change that stops escaping fails here.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from sqlalchemy import select

from formserver.accounts import organisation_by_slug
from formserver.models import Submission

from .web_fixtures import CSRF, instance, sign_in, submit, web  # noqa: F401

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def test_markup_sent_by_a_phone_or_typed_in_a_comment_is_shown_as_text(app, web):
    blobs = app.extensions["formserver.blobs"]
    with app.extensions["formserver.db"].session_scope() as session:
        organisation = organisation_by_slug(session, "hillnet")
        submit(session, blobs, organisation, instance("uuid:markup", name=escape(MARKUP)))  # escaped once, for the XML
        number = session.scalar(select(Submission.id).where(Submission.instance_id == "uuid:markup"))
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    client.post(f"/orgs/hillnet/submissions/{number}/comments", data={"csrf_token": CSRF, "text": MARKUP})
    for path in ("/orgs/hillnet/forms/intake/submissions", f"/orgs/hillnet/submissions/{number}"):
        page = client.get(path).get_data(as_text=True)
        assert ESCAPED in page, path
        assert "<script>alert" not in page and "<img src=x" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # the pages run only the server's own script files
