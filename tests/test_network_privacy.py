"""What the network keeps of a household: counted answers and a keyed hash, nothing that names anyone."""

from __future__ import annotations

import hashlib
import hmac
import stat

from sqlalchemy import select, text

from formserver.models import NetworkUnit, NetworkValue
from formserver.network.identity import KEY_FILE, identity_hash, installation_key

from .network_population import CANARY_GPS, CANARY_HEAD_ID, CANARY_ID, CANARY_MEMBER, CANARY_NAME, CANARY_REMARK
from .network_world import catch_up, household_xml, member, send, sharing_organisation


def every_facts_row(session) -> list[str]:
    rows = []
    for table in (NetworkUnit.__table__, NetworkValue.__table__):
        rows.extend(" ".join(str(value) for value in row) for row in session.execute(select(table)))
    return rows


def test_a_canary_household_leaves_no_trace_in_the_facts_but_its_keyed_hash(session, blobs, settings):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml(
        "uuid:canary", head_name=CANARY_NAME, head_id=CANARY_HEAD_ID, gps=CANARY_GPS, remark=CANARY_REMARK,
        members=[member(CANARY_MEMBER, CANARY_ID)],
    ))
    assert catch_up(session, blobs) == 1
    rows = every_facts_row(session)
    assert rows, "the shared household has facts"
    dumped = "\n".join(rows)
    canaries = [CANARY_NAME, CANARY_MEMBER, CANARY_HEAD_ID, CANARY_ID, CANARY_REMARK, CANARY_GPS, "19.912345", "99.834567"]
    for canary in canaries:
        assert canary not in dumped
    for digits in (CANARY_HEAD_ID, CANARY_ID):  # nor a plain digest anyone could compute from the number
        plain = hashlib.sha256(digits.encode()).digest()
        assert str(int.from_bytes(plain[:8], "big", signed=True)) not in dumped
    key = installation_key(settings.data_dir)
    stored = set(session.scalars(select(NetworkUnit.identity)))
    assert stored == {identity_hash(key, CANARY_HEAD_ID), identity_hash(key, CANARY_ID)}
    digest = hmac.new(key, CANARY_ID.encode(), hashlib.sha256).digest()
    assert identity_hash(key, CANARY_ID) == int.from_bytes(digest[:8], "big", signed=True)


def test_values_hold_only_choice_names_and_bands(session, blobs):
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    send(session, blobs, hill, household_xml("uuid:1", members=[member("นา", documents="birth tr14", age="44")]))
    catch_up(session, blobs)
    values = set(session.execute(select(NetworkValue.field, NetworkValue.choice)))
    assert values == {
        ("province", "57"), ("legal_status", "stateless"), ("documents", "birth"), ("documents", "tr14"), ("age", "18-59")
    }


def test_the_key_file_is_made_once_readable_by_its_owner_only(tmp_path):
    first = installation_key(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32
    content = path.read_bytes()
    from formserver.network import identity

    identity._KEYS.clear()  # as a new process would
    assert installation_key(tmp_path) == first and path.read_bytes() == content


def test_rotating_the_session_secret_changes_no_hash(settings, tmp_path):
    from dataclasses import replace

    before = identity_hash(installation_key(settings.data_dir), CANARY_ID)
    rotated = replace(settings, secret_key="an entirely different session secret")
    assert identity_hash(installation_key(rotated.data_dir), CANARY_ID) == before
    assert settings.secret_key.encode() not in (settings.data_dir / KEY_FILE).read_bytes()


def test_only_thirteen_digits_are_an_identity():
    key = b"k" * 32
    assert identity_hash(key, "3-5701-00098-76-5") == identity_hash(key, "3570100098765")
    for value in ("", "357010009876", "35701000987650", "๓๕๗๐๑๐๐๐๙๘๗๖๕", None):
        assert identity_hash(key, value) is None


def test_a_form_not_shared_keeps_no_facts(session, blobs):
    river, _ = sharing_organisation(session, blobs, "rivernet", shared=False)
    send(session, blobs, river, household_xml("uuid:r", head_name=CANARY_NAME, members=[member("คำ", CANARY_ID)]))
    assert catch_up(session, blobs) == 0
    assert session.execute(text("select count(*) from network_unit")).scalar() == 0
