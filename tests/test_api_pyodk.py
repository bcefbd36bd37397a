"""ODK's own Python client, pyodk, against a real ``formserver serve``: what an analyst's script does."""

from __future__ import annotations

import pytest
from pyodk.client import Client
from pyodk.errors import PyODKError

from .servers import running_server
from .web_fixtures import PHOTO, build_world, instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def pyodk_client(database, blobs, settings, environment, tmp_path):
    world = build_world(database, blobs, settings)
    with running_server(environment, workers=1) as (base, _pid):
        config = tmp_path / "pyodk_config.toml"
        config.write_text(
            f'[central]\nbase_url = "{base}"\nusername = "manager@hill.example"\n'
            f'password = "correct horse battery"\ndefault_project_id = {world.own.org_id}\n'
        )
        with Client(config_path=config, cache_path=tmp_path / "pyodk_cache.toml") as client:
            yield client, world


def test_pyodk_reads_projects_forms_submissions_and_the_feed(pyodk_client):
    client, world = pyodk_client
    assert [p.id for p in client.projects.list()] == [world.own.org_id]
    assert [(f.xmlFormId, f.version, f.name) for f in client.forms.list()] == [("intake", "1", "แบบสำรวจครัวเรือน")]
    assert [s.instanceId for s in client.submissions.list(form_id="intake")] == ["uuid:hillnet-1"]
    table = client.submissions.get_table(form_id="intake", expand="*", filter="__system/submissionDate gt 2020-01-01")
    row = table["value"][0]
    assert row["name"] == "สมชาย" and row["household"]["members"] == 3
    assert [m["member_name"] for m in row["member"]] == ["นิด", "น้อย"]
    assert client.submissions.get_table(form_id="intake", filter="__system/submissionDate lt 2020-01-01")["value"] == []
    xml = client.session.get(f"projects/{world.own.org_id}/forms/intake/submissions/uuid:hillnet-1.xml")
    assert "สมชาย" in xml.content.decode("utf-8")
    photo = client.session.get(f"projects/{world.own.org_id}/forms/intake/submissions/uuid:hillnet-1/attachments/photo.png")
    assert photo.content == PHOTO


def test_pyodk_creates_once_reviews_and_comments(pyodk_client):
    client, world = pyodk_client
    xml = instance("uuid:pyodk-1", name="สมหญิง", photo=None).decode("utf-8")
    created = client.submissions.create(xml=xml, form_id="intake", device_id="pyodk-test")
    assert created.instanceId == "uuid:pyodk-1" and created.deviceId == "pyodk-test"
    with pytest.raises(PyODKError) as resend:
        client.submissions.create(xml=xml, form_id="intake")
    assert "409" in str(resend.value)
    assert sorted(s.instanceId for s in client.submissions.list(form_id="intake")) == ["uuid:hillnet-1", "uuid:pyodk-1"]
    client.submissions.review(instance_id="uuid:pyodk-1", review_state="approved", form_id="intake", comment="ดีมาก")
    assert client.submissions.get(instance_id="uuid:pyodk-1", form_id="intake").reviewState == "approved"
    assert [c.body for c in client.submissions.list_comments(instance_id="uuid:pyodk-1", form_id="intake")] == ["ดีมาก"]
