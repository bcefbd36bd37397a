"""The 16 conformance checks of openrosa.md §6, against a real ``formserver serve`` process.

Every request carries Collect's §0 headers and ``deviceID``. Checks 1–9 run twice:
for a person signing in with HTTP Digest on ``{base}/o/{slug}``, and for a device
account's token URL ``{base}/key/{token}/o/{slug}`` with no Authorization at all
(check 14). One server serves the whole module.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from formserver import accounts, appusers, forms
from formserver.config import Settings
from formserver.db import Database
from formserver.models import Submission, SubmissionAttachment
from formserver.storage import BlobStore

from .collect_client import (
    as_xform,
    CollectClient,
    HttpTransport,
    instance_xml,
    multipart_body,
)
from .servers import running_server, server_environment
from .xlsforms import simple_form, xlsform

XFORMS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
PASSWORD = "correct horse battery"
LIMIT = 1_000_000
MD5 = re.compile(r"^md5:[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory, migrated_database) -> Settings:
    data_dir = tmp_path_factory.mktemp("conformance") / "data"
    data_dir.mkdir()
    return Settings(
        data_dir=data_dir,
        database_url=migrated_database(),
        secret_key="conformance-secret-key",
        public_url="http://formserver.test",
        validate_with_java=False,
        accept_content_length=LIMIT,
    )


@pytest.fixture(scope="module")
def database(server_settings):
    db = Database(server_settings)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def token(server_settings, database) -> str:
    """The organisation, its forms and accounts, made before the server starts."""
    blobs = BlobStore(server_settings.blob_dir)
    with database.session_scope() as session:
        org = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
        forms.add_form_version(session, blobs, org, as_xform(simple_form(title="แบบง่าย Simple")), "simple.xml")
        media_form = xlsform(
            [
                {"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"},
                {"type": "select_one_from_file villages.csv", "name": "village", "label": "Village"},
                {"type": "image", "name": "photo", "label": "Photo"},
            ],
            settings={"form_id": "with_media", "version": "2026-01", "form_title": "With media"},
        )
        forms.add_form_version(
            session, blobs, org, media_form, "with_media.xlsx",
            media=[("logo.png", b"\x89PNG fake logo"), ("villages.csv", "name,label\nb1,บ้านหนึ่ง\n".encode())],
        )
        closed = forms.add_form_version(session, blobs, org, simple_form(form_id="closed_form", title="Closed"), "c.xlsx")
        forms.set_state(session, closed.form, "closed")
        user = accounts.create_user(session, "som@example.org", PASSWORD, realm=server_settings.digest_realm)
        accounts.add_member(session, org, user, "collector")
        return appusers.create_app_user(session, org, "phone 1").token


@pytest.fixture(scope="module")
def base(server_settings, token, tmp_path_factory):
    env = server_environment(server_settings)
    env["FORMSERVER_ACCEPT_CONTENT_LENGTH"] = str(LIMIT)
    log = tmp_path_factory.mktemp("conformance-log") / "server.log"
    with running_server(env, workers=2, log=log) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def transport():
    transport = HttpTransport()
    yield transport
    transport.close()


@pytest.fixture(params=["digest", "token"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def collect(kind, base, token, transport) -> CollectClient:
    if kind == "digest":
        return CollectClient(f"{base}/o/hillnet", transport, username="som@example.org", password=PASSWORD)
    return CollectClient(f"{base}/key/{token}/o/hillnet", transport)


def submissions_of(database, instance_id: str) -> list[Submission]:
    with database.session_scope() as session:
        return list(session.scalars(select(Submission).where(Submission.instance_id == instance_id)))


def attachment_names(database, instance_id: str) -> list[str]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(SubmissionAttachment.name)
                .join(Submission)
                .where(Submission.instance_id == instance_id)
                .order_by(SubmissionAttachment.name)
            )
        )


def check_form_list(response) -> list[dict]:
    """Check 1 on one response; returns each xform's children as a dict."""
    assert response.status == 200
    assert "text/xml" in response.header("Content-Type")
    assert response.header("X-OpenRosa-Version") == "1.0"
    root = response.xml()
    assert root.tag == f"{XFORMS}xforms"
    entries = []
    for xform in root.findall(f"{XFORMS}xform"):
        entry = {child.tag.replace(XFORMS, ""): (child.text or "").strip() for child in xform}
        assert entry.get("formID") and entry.get("name") and entry.get("downloadUrl")
        assert MD5.match(entry["hash"])
        assert "version" in entry
        entries.append(entry)
    return entries


def absolute(url: str, base: str) -> None:
    assert url.startswith(base + "/") and " " not in url


# --------------------------------------------------------------------------- checks 1–4: forms


def test_1_form_list_is_an_openrosa_xforms_list(collect):
    entries = check_form_list(collect.form_list())
    assert sorted(e["formID"] for e in entries) == ["simple", "with_media"]


def test_2_each_form_downloads_with_the_listed_hash_id_version_and_title(collect):
    for entry in check_form_list(collect.form_list()):
        absolute(entry["downloadUrl"], collect.server_url)
        response = collect.get(entry["downloadUrl"])
        assert response.status == 200
        assert "md5:" + hashlib.md5(response.body).hexdigest() == entry["hash"]
        xform = response.xml()
        model = xform.find(f"{H}head/{XF}model")
        instance_root = [c for c in model.find(f"{XF}instance") if isinstance(c.tag, str)][0]
        assert instance_root.get("id") == entry["formID"]
        assert (instance_root.get("version") or None) == (entry["version"] or None)
        assert xform.find(f"{H}head/{H}title") is not None


def test_3_forms_with_media_list_a_manifest_of_basenames_hashes_and_urls(collect):
    entries = {e["formID"]: e for e in check_form_list(collect.form_list())}
    assert "manifestUrl" not in entries["simple"]
    manifest_url = entries["with_media"]["manifestUrl"]
    absolute(manifest_url, collect.server_url)
    response = collect.get(manifest_url)
    assert response.status == 200
    assert "text/xml" in response.header("Content-Type")
    assert response.header("X-OpenRosa-Version") == "1.0"
    root = response.xml()
    assert root.tag == f"{MANIFEST}manifest"
    files = root.findall(f"{MANIFEST}mediaFile")
    assert sorted(f.findtext(f"{MANIFEST}filename") for f in files) == ["logo.png", "villages.csv"]
    for media in files:
        assert "/" not in media.findtext(f"{MANIFEST}filename")
        assert MD5.match(media.findtext(f"{MANIFEST}hash"))
        absolute(media.findtext(f"{MANIFEST}downloadUrl"), collect.server_url)


def test_4_each_media_file_has_the_manifest_hash(collect):
    entries = {e["formID"]: e for e in check_form_list(collect.form_list())}
    root = collect.get(entries["with_media"]["manifestUrl"]).xml()
    for media in root.findall(f"{MANIFEST}mediaFile"):
        response = collect.get(media.findtext(f"{MANIFEST}downloadUrl"))
        assert response.status == 200
        assert "md5:" + hashlib.md5(response.body).hexdigest() == media.findtext(f"{MANIFEST}hash")


# --------------------------------------------------------------------------- checks 5–11: submissions


def test_5_head_submission_is_204_with_the_accepted_content_length(collect):
    response = collect.head(collect.submission_url)
    assert response.status == 204
    assert int(response.header("X-OpenRosa-Accept-Content-Length")) == LIMIT
    location = response.header("Location")
    assert location is None or urlsplit(location).netloc == urlsplit(collect.server_url).netloc


def test_6_a_submission_is_created_with_an_openrosa_message(collect, kind, database):
    result = collect.send_instance(instance_xml("simple", "1", f"uuid:{kind}-6"), form_name="T")
    assert result.head.status == 204
    assert [p.status for p in result.posts] == [201]
    assert "Submission received" in result.last.message
    assert len(submissions_of(database, f"uuid:{kind}-6")) == 1


def test_7_an_identical_resend_is_201_and_stored_once(collect, kind, database):
    xml = instance_xml("simple", "1", f"uuid:{kind}-7")
    assert collect.send_instance(xml).last.status == 201
    assert collect.send_instance(xml).last.status == 201
    assert len(submissions_of(database, f"uuid:{kind}-7")) == 1


def test_8_the_same_instance_id_with_different_xml_is_409_with_a_message(collect, kind, database):
    assert collect.send_instance(instance_xml("simple", "1", f"uuid:{kind}-8", "<q>1</q>")).last.status == 201
    refused = collect.send_instance(instance_xml("simple", "1", f"uuid:{kind}-8", "<q>2</q>")).last
    assert refused.status == 409
    assert "already exists with different XML" in refused.message
    assert submissions_of(database, f"uuid:{kind}-8")[0].xml.count(b"<q>1</q>") == 1


def test_9_a_split_upload_attaches_every_file_under_its_own_name(collect, kind, database):
    xml = instance_xml("with_media", "2026-01", f"uuid:{kind}-9", "<photo>a.jpg</photo>")
    files = [("a.jpg", b"\xff\xd8" + b"a" * 600_000), ("b.bin", b"b" * 600_000)]
    result = collect.send_instance(xml, files, form_name="With media")
    assert [p.status for p in result.posts] == [201, 201]  # the limit is 1 MB: two POSTs
    assert attachment_names(database, f"uuid:{kind}-9") == ["a.jpg", "b.bin"]


def test_9_split_parts_sent_by_hand_mark_all_but_the_last_incomplete(collect, kind, database):
    xml = instance_xml("simple", "1", f"uuid:{kind}-9b")
    xml_part = ("xml_submission_file", "T_2026-01-01_10-00-00.xml", "text/xml", xml)
    body, content_type = multipart_body([xml_part, ("a.jpg", "a.jpg", "image/jpeg", b"jpeg")], incomplete=True)
    assert collect.request("POST", collect.submission_url, body=body, headers={"Content-Type": content_type}).status == 201
    body, content_type = multipart_body([xml_part, ("b.bin", "b.bin", "application/octet-stream", b"bin")])
    assert collect.request("POST", collect.submission_url, body=body, headers={"Content-Type": content_type}).status == 201
    assert attachment_names(database, f"uuid:{kind}-9b") == ["a.jpg", "b.bin"]


def test_10_an_unknown_form_or_a_closed_form_is_refused_with_a_message(collect, kind):
    unknown = collect.send_instance(instance_xml("no_such_form", "1", f"uuid:{kind}-10a")).last
    assert unknown.status == 404 and "no_such_form" in unknown.message
    closed = collect.send_instance(instance_xml("closed_form", "1", f"uuid:{kind}-10b")).last
    assert closed.status == 409 and "closed" in closed.message


def test_11_an_attachment_over_the_limit_gets_413_with_a_message_not_a_reset(collect, kind, database):
    xml = instance_xml("simple", "1", f"uuid:{kind}-11")
    result = collect.send_instance(xml, [("big.mp4", b"v" * (LIMIT + 500_000))])
    assert result.last.status == 413
    assert "big.mp4" in result.last.message
    assert submissions_of(database, f"uuid:{kind}-11") == []
    # The same connection still works afterwards.
    assert collect.head(collect.submission_url).status == 204


# --------------------------------------------------------------------------- checks 12–16: authentication, headers, QR


def raw(base: str, method: str, target: str, headers: dict | None = None):
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request(method, target, headers={"X-OpenRosa-Version": "1.0", **(headers or {})})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_12_digest_over_http_is_challenged_answered_and_reused_with_the_next_nc(base, transport):
    D = "deviceID=collect%3AAbCdEf0123456789"
    challenge = raw(base, "GET", f"/o/hillnet/formList?{D}")
    assert challenge.status == 401
    values = challenge.headers.get_all("WWW-Authenticate")
    assert values[0].startswith('Digest realm="formserver"')
    assert 'qop="auth"' in values[0] and 'nonce="' in values[0]
    assert not any(v.startswith("Basic") for v in values)  # Basic only on https

    collect = CollectClient(f"{base}/o/hillnet", transport, username="som@example.org", password=PASSWORD)
    assert collect.form_list().status == 200
    assert collect.form_list().status == 200
    first, second = [a for a in collect.sent_authorization if a]
    assert "nc=00000001" in first and "nc=00000002" in second
    assert re.search(r'nonce="([^"]+)"', first).group(1) == re.search(r'nonce="([^"]+)"', second).group(1)
    assert f'uri="/o/hillnet/formList?{D}"' in first

    assert raw(base, "HEAD", f"/o/hillnet/submission?{D}").status == 401
    assert collect.head(collect.submission_url).status == 204


def test_13_a_wrong_password_gets_401_again(base, transport):
    collect = CollectClient(f"{base}/o/hillnet", transport, username="som@example.org", password="wrong password!")
    response = collect.form_list()
    assert response.status == 401
    assert len([a for a in collect.sent_authorization if a]) == 1


def test_14_the_token_url_needs_no_authorization_and_lists_urls_under_its_prefix(base, token, server_settings, database):
    with database.session_scope() as session:
        organisation = accounts.organisation_by_slug(session, "hillnet")
        app_user = appusers.app_user_by_name(session, organisation, "phone 1")
        assert appusers.token_url(base, organisation, app_user) == f"{base}/key/{token}/o/hillnet"
    transport = HttpTransport()
    collect = CollectClient(f"{base}/key/{token}/o/hillnet", transport)
    entries = check_form_list(collect.form_list())
    for entry in entries:
        assert entry["downloadUrl"].startswith(f"{base}/key/{token}/o/hillnet/")
        assert entry.get("manifestUrl", f"{base}/key/{token}/o/hillnet/").startswith(f"{base}/key/{token}/o/hillnet/")
    assert collect.send_instance(instance_xml("simple", "1", "uuid:token-14")).last.status == 201
    assert set(collect.sent_authorization) == {None}
    transport.close()


def test_15_collect_dates_in_12_hour_form_without_accept_language_are_not_rejected(collect):
    afternoon = time.mktime((2026, 8, 20, 14, 15, 7, 0, 0, 0)) - time.timezone
    date = collect.collect_date(afternoon)
    assert date == "Thu, 20 Aug 2026 02:15:07 GMT"
    collect.base_headers = lambda: {  # noqa: E731 - exactly Collect's headers, with that date
        "User-Agent": collect.user_agent, "X-OpenRosa-Version": "1.0", "Date": date, "Accept-Encoding": "gzip",
    }
    assert collect.form_list().status == 200
    assert collect.head(collect.submission_url).status == 204


def test_16_the_qr_payload_decodes_to_settings_whose_server_url_lists_forms(base, token, transport):
    with_token = f"{base}/key/{token}/o/hillnet"
    payload = appusers.qr_payload(appusers.collect_settings(with_token, "เครือข่ายบนดอย"))
    decoded = appusers.read_qr_payload(payload)
    import base64
    import json
    import zlib

    assert json.loads(zlib.decompress(base64.b64decode(payload))) == decoded
    assert isinstance(decoded["general"], dict) and isinstance(decoded["admin"], dict)
    assert isinstance(decoded["general"]["server_url"], str)
    assert decoded["general"]["form_update_mode"] == "match_exactly"
    assert decoded["project"]["name"] == "เครือข่ายบนดอย"
    check_form_list(CollectClient(decoded["general"]["server_url"], transport).get(decoded["general"]["server_url"] + "/formList"))


def test_the_server_keeps_every_acknowledged_submission_exactly_once(database):
    with database.session_scope() as session:
        duplicates = session.execute(
            select(Submission.form_id, Submission.instance_id, func.count())
            .group_by(Submission.form_id, Submission.instance_id)
            .having(func.count() > 1)
        ).all()
    assert duplicates == []


def test_forwarded_headers_from_a_client_are_ignored_when_not_behind_a_proxy(base, token):
    response = raw_response(
        base, "GET", f"/key/{token}/o/hillnet/formList?deviceID=collect%3AAbCdEf0123456789",
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Ssl": "on"},
    )
    assert response[0] == 200
    assert f"<downloadUrl>{base}/key/{token}/o/hillnet/forms/simple.xml</downloadUrl>".encode() in response[1]


def raw_response(base: str, method: str, target: str, headers: dict) -> tuple[int, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request(method, target, headers={"X-OpenRosa-Version": "1.0", **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body
