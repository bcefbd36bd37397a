"""A server killed with SIGKILL while phones send loses nothing it acknowledged (issue #12).

The short variant of bench/crash.py's kill rounds: 8 Collect-like phones, one kill after about
2 s, a restart, the phones send again what was not answered 201; then every acknowledged
household is stored once with its files byte for byte, every resent one is complete, and the
orphans a kill leaves are removed by the repair (see tests/crash_phones.py).
"""

from __future__ import annotations

from formserver import accounts, appusers, forms

from .collect_client import as_xform
from .crash_phones import PHOTO_FORM, crash_round


def test_a_killed_server_keeps_every_acknowledged_submission_and_completes_the_resent_ones(
    settings, session, blobs, environment, tmp_path
):
    organisation = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    forms.add_form_version(session, blobs, organisation, as_xform(PHOTO_FORM), "household_photos.xml")
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()

    result = crash_round(
        settings, environment, f"/key/{token}/o/hillnet", phones=8, kill_after=2, seed=1, logs=tmp_path
    )

    assert result.problems == [], result
    assert result.processes >= 3, "the server and its workers"
    assert result.acknowledged > 0 and result.stored == result.acknowledged and result.lost == 0
    assert result.duplicated == 0
    assert result.unanswered >= 8, "each phone was cut off once"
    assert result.completed == result.unanswered
    assert result.orphans_after_repair == 0

