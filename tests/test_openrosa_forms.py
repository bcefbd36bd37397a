"""What phones are offered: open forms with a published version and all their media, hashed by the bytes served."""

from __future__ import annotations

import hashlib

import pytest

from formserver import accounts, appusers, forms

from .collect_client import CollectClient, FlaskTransport, as_xform
from .conftest import shared_path
from .xlsforms import simple_form, xlsform

XFORMS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
MEDIA_FORM = [
    {"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"},
    {"type": "select_one_from_file villages.csv", "name": "village", "label": "Village"},
]


@pytest.fixture
def organisation(session):
    org = accounts.create_organisation(session, "hillnet", "Hill network")
    session.commit()
    return org


@pytest.fixture
def phone(client, session, organisation) -> CollectClient:
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    return CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, session.commit))


def listed(phone) -> dict[str, dict]:
    response = phone.form_list()
    assert response.status == 200
    return {
        x.findtext(f"{XFORMS}formID"): {c.tag.replace(XFORMS, ""): c.text for c in x}
        for x in response.xml().findall(f"{XFORMS}xform")
    }


def add(session, blobs, organisation, content, filename, **options):
    if filename.endswith(".xlsx") and filename != "transportation.xlsx":
        content, filename = as_xform(content), filename.replace(".xlsx", ".xml")
    upload = forms.add_form_version(session, blobs, organisation, content, filename, **options)
    session.commit()
    return upload


def test_the_list_offers_open_published_forms_with_complete_media_only(phone, session, blobs, organisation):
    add(session, blobs, organisation, simple_form(form_id="open_form"), "a.xlsx")
    closing = add(session, blobs, organisation, simple_form(form_id="closing_form"), "b.xlsx")
    closed = add(session, blobs, organisation, simple_form(form_id="closed_form"), "c.xlsx")
    add(session, blobs, organisation, simple_form(form_id="draft_form"), "d.xlsx", draft=True)
    incomplete = add(session, blobs, organisation, xlsform(MEDIA_FORM, settings={"form_id": "media_form", "version": "1"}), "m.xlsx")
    forms.set_state(session, closing.form, "closing")
    forms.set_state(session, closed.form, "closed")
    assert sorted(listed(phone)) == ["open_form"]
    forms.attach_media(session, blobs, incomplete.version, "logo.png", b"png")
    assert sorted(listed(phone)) == ["open_form"]
    forms.attach_media(session, blobs, incomplete.version, "villages.csv", b"name,label\n")
    assert sorted(listed(phone)) == ["media_form", "open_form"]


def test_the_list_hash_is_the_md5_of_the_bytes_served_and_follows_the_published_version(phone, session, blobs, organisation):
    add(session, blobs, organisation, simple_form(version="1"), "s.xlsx")
    entry = listed(phone)["simple"]
    served = phone.get(entry["downloadUrl"])
    assert entry["hash"] == "md5:" + hashlib.md5(served.body).hexdigest()
    assert served.header("Content-Type") == "text/xml; charset=utf-8"
    assert served.header("Cache-Control") == "no-cache"
    add(session, blobs, organisation, simple_form(version="2", title="Two"), "s.xlsx", draft=True)
    assert listed(phone)["simple"]["version"] == "1"
    forms.publish(session, forms.newest_version(session, forms.form_by_id(session, organisation, "simple")))
    again = listed(phone)["simple"]
    assert again["version"] == "2" and again["name"] == "Two" and again["hash"] != entry["hash"]
    assert again["hash"] == "md5:" + hashlib.md5(phone.get(again["downloadUrl"]).body).hexdigest()


def test_the_list_and_manifest_are_never_cached_for_long(phone, session, blobs, organisation):
    add(session, blobs, organisation, xlsform(MEDIA_FORM, settings={"form_id": "m", "version": "1"}), "m.xlsx",
        media=[("logo.png", b"png"), ("villages.csv", b"name,label\n")])
    response = phone.form_list()
    assert response.header("Cache-Control") == "no-cache"
    manifest = phone.get(listed(phone)["m"]["manifestUrl"])
    assert manifest.header("Cache-Control") == "no-cache" and manifest.header("X-OpenRosa-Version") == "1.0"


def test_a_form_with_media_lists_a_manifest_and_media_come_from_the_blob_store(phone, session, blobs, organisation):
    upload = add(
        session, blobs, organisation, xlsform(MEDIA_FORM, settings={"form_id": "m", "version": "1"}), "m.xlsx",
        media=[("logo.png", b"\x89PNG logo"), ("villages.csv", "name,label\nb1,บ้าน\n".encode())],
    )
    entry = listed(phone)["m"]
    manifest = phone.get(entry["manifestUrl"]).xml()
    files = {f.findtext(f"{MANIFEST}filename"): f for f in manifest.findall(f"{MANIFEST}mediaFile")}
    assert set(files) == {"logo.png", "villages.csv"}
    logo = phone.get(files["logo.png"].findtext(f"{MANIFEST}downloadUrl"))
    assert logo.status == 200 and logo.body == b"\x89PNG logo" and logo.header("Content-Type") == "image/png"
    assert files["logo.png"].findtext(f"{MANIFEST}hash") == "md5:" + hashlib.md5(b"\x89PNG logo").hexdigest()
    stored = {m.filename: m for m in upload.version.media}
    assert blobs.read(stored["logo.png"].sha256) == b"\x89PNG logo"
    # A phone asking for its copy again with the ETag it has gets 304.
    again = phone.get(files["logo.png"].findtext(f"{MANIFEST}downloadUrl"), headers={"If-None-Match": logo.header("ETag")})
    assert again.status == 304
    unknown = phone.get(files["logo.png"].findtext(f"{MANIFEST}downloadUrl").replace("logo.png", "other.png"))
    assert unknown.status == 404 and "other.png" in unknown.body.decode("utf-8")


def test_the_list_formid_is_the_instance_id_even_with_a_legacy_root_name(phone, session, blobs, organisation):
    workbook = shared_path("corpus", "xlsforms", "onadata", "transportation", "transportation.xlsx")
    add(session, blobs, organisation, workbook.read_bytes(), workbook.name)
    entry = listed(phone)["transportation_2011_07_25"]
    xform = phone.get(entry["downloadUrl"]).xml()
    root = xform.find(".//{http://www.w3.org/2002/xforms}instance")[0]
    assert root.get("id") == "transportation_2011_07_25" and root.get("version") == entry["version"] == "2014111"


def test_a_closed_form_or_an_unknown_one_cannot_be_downloaded(phone, session, blobs, organisation):
    upload = add(session, blobs, organisation, simple_form(), "s.xlsx")
    url = listed(phone)["simple"]["downloadUrl"]
    forms.set_state(session, upload.form, "closing")
    assert phone.get(url).status == 200  # phones that have it may still fetch it
    forms.set_state(session, upload.form, "closed")
    closed = phone.get(url)
    assert closed.status == 404 and "simple" in closed.message
    assert phone.get(url.replace("simple.xml", "nothing.xml")).status == 404


def test_the_server_url_and_token_url_have_the_documented_shape(session, organisation, settings):
    app_user = appusers.create_app_user(session, organisation, "phone 2")
    assert appusers.server_url("https://forms.example.org/", organisation) == "https://forms.example.org/o/hillnet"
    assert appusers.token_url(settings.public_url, organisation, app_user) == (
        f"http://formserver.test/key/{app_user.token}/o/hillnet"
    )
