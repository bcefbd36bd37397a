"""The OData v4 feed of a form, as ODK Central serves it: service document, ``$metadata`` and the tables.

Rows are streamed (memory does not grow with the number of submissions) in arrival
order of their records. With ``$top`` the answer ends with ``@odata.nextLink``, whose
``$skiptoken`` names the last record served by its first instanceID: the next page
starts after that record, so records arriving or edited while a client pages are
neither lost nor repeated.

An encrypted submission's answers are sealed: its row in ``Submissions`` has ``__id`` and
``__system`` only, with the ``status`` ``notDecrypted`` (or ``missingEncryptedFormData`` when its
encrypted XML never arrived), and it has no rows in the repeat tables, as Central serves it. The
feed never decrypts and takes no passphrase (nor does Central's): the CSV zip does.
"""

from __future__ import annotations

import base64
import binascii
from collections import namedtuple
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

import orjson
from flask import Response, current_app, request, stream_with_context
from sqlalchemy import Text, cast, func, select

from .. import central
from ..central import SUPERSEDED, record_key, submitter_id
from ..db import reading_session, request_session, stream_rows
from ..encryption import BadEnvelope, is_encrypted, read_envelope
from ..exports.decrypting import envelope_columns, stored_files
from ..exports.flatten import flatten
from ..models import AppUser, FormVersion, Organisation, Submission, SubmissionAttachment, User
from ..xml import UnsafeOrBadXml, parse
from . import json
from .access import form_in, project_route
from .errors import ApiError
from .forms import current_version
from .odata_filter import parse_filter
from .odata_rows import EDM_TYPES, RowMaker, tables
from .records import FIRST, records

ODATA_JSON = "application/json; charset=utf-8; odata.metadata=minimal"
CHUNK = 1 << 16
SUPPORTED = {"$top", "$skip", "$count", "$filter", "$orderby", "$select", "$expand", "$wkt", "$skiptoken", "$format"}
PRESENT = (
    select(func.count(SubmissionAttachment.id))
    .where(SubmissionAttachment.submission_id == Submission.id)
    .correlate(Submission)
    .scalar_subquery()
)


def _tree(organisation: Organisation, xml_form_id: str):
    form = form_in(organisation, xml_form_id)
    version = current_version(form)
    if version is None:
        raise ApiError(404.1)
    return form, version.field_tree


def _service_root(organisation: Organisation, xml_form_id: str) -> str:
    return f"{request.host_url}v1/projects/{organisation.id}/forms/{xml_form_id}.svc"


@project_route("/forms/<xml_form_id>.svc", "submission.read", methods=["GET"])
def service_document(organisation: Organisation, xml_form_id: str):
    _form, tree = _tree(organisation, xml_form_id)
    value = [{"kind": "EntitySet", "name": name, "url": name} for name in tables(tree)]
    body = {"@odata.context": _service_root(organisation, xml_form_id) + "/$metadata", "value": value}
    return Response(orjson.dumps(body), content_type=ODATA_JSON)


@project_route("/forms/<xml_form_id>.svc/$metadata", "submission.read", methods=["GET"])
def metadata(organisation: Organisation, xml_form_id: str):
    form, tree = _tree(organisation, xml_form_id)
    return Response(edmx(form.form_id, tree), mimetype="application/xml")


def edmx(form_id: str, tree: dict) -> str:
    """The EDMX document: an entity type per table, a complex type per group, ``__system`` as Central has it."""
    namespace = f"org.opendatakit.user.{form_id}"
    types: list[str] = []
    prefix = "/" + tree["root"] + "/"

    def properties(nodes: list[dict], owner: str) -> list[str]:
        found = []
        for node in nodes:
            name = quoteattr(node["name"])
            if node["kind"] == "group":
                type_name = (owner + "." + node["name"]).replace("Submissions.", "", 1)
                types.append(f'<ComplexType Name={quoteattr(type_name)}>{"".join(properties(node.get("children", []), owner + "." + node["name"]))}</ComplexType>')
                found.append(f'<Property Name={name} Type="{namespace}.{type_name}"/>')
            elif node["kind"] == "repeat":
                target = "Submissions." + node["path"][len(prefix):].replace("/", ".")
                found.append(f'<NavigationProperty Name={name} Type="Collection({namespace}.{target})"/>')
            else:
                found.append(f'<Property Name={name} Type="{EDM_TYPES.get(node.get("type"), "Edm.String")}"/>')
        return found

    entity_types = []
    for table in tables(tree).values():
        key = '<Key><PropertyRef Name="__id"/></Key><Property Name="__id" Type="Edm.String"/>'
        parent = f'<Property Name="{table.parent_key}" Type="Edm.String"/>' if table.parent_key else ""
        system = '<Property Name="__system" Type="org.opendatakit.submission.metadata"/>' if not table.parent else ""
        body = "".join(properties(table.nodes, table.name))
        entity_types.append(f'<EntityType Name="{table.name}">{key}{parent}{body}{system}</EntityType>')
    sets = "".join(f'<EntitySet Name="{t}" EntityType="{namespace}.{t}"/>' for t in tables(tree))
    system_type = "".join(
        f'<Property Name="{name}" Type="{kind}"/>'
        for name, kind in [
            ("submissionDate", "Edm.DateTimeOffset"), ("updatedAt", "Edm.DateTimeOffset"), ("submitterId", "Edm.String"),
            ("submitterName", "Edm.String"), ("attachmentsPresent", "Edm.Int64"), ("attachmentsExpected", "Edm.Int64"),
            ("status", "org.opendatakit.submission.Status"), ("reviewState", "org.opendatakit.submission.ReviewState"),
            ("deviceId", "Edm.String"), ("edits", "Edm.Int64"), ("formVersion", "Edm.String"),
        ]
    )
    members = lambda names: "".join(f'<Member Name="{n}"/>' for n in names)  # noqa: E731
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0"><edmx:DataServices>'
        '<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="org.opendatakit.submission">'
        f'<ComplexType Name="metadata">{system_type}</ComplexType>'
        f'<EnumType Name="Status">{members(["notDecrypted", "missingEncryptedFormData"])}</EnumType>'
        f'<EnumType Name="ReviewState">{members(["hasIssues", "edited", "rejected", "approved"])}</EnumType>'
        "</Schema>"
        f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{namespace}">'
        f'{"".join(entity_types)}{"".join(types)}<EntityContainer Name={quoteattr(form_id)}>{sets}</EntityContainer>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    )


@project_route("/forms/<xml_form_id>.svc/<table_name>", "submission.read", methods=["GET"])
def table_rows(organisation: Organisation, xml_form_id: str, table_name: str):
    form, tree = _tree(organisation, xml_form_id)
    known = tables(tree)
    if table_name not in known:
        raise ApiError(404.1)
    options = _options()
    query, edits = _feed_query(form)
    if options["filter"] is not None:
        query = query.where(parse_filter(options["filter"], edits))
    count = None
    if options["count"]:
        count = request_session().scalar(select(func.count()).select_from(query.subquery())) if table_name == "Submissions" else None
    descending = options["descending"]
    after = _after(form, options["skiptoken"])
    if after is not None:
        query = query.where(FIRST.id < after if descending else FIRST.id > after)
    query = query.order_by(FIRST.id.desc() if descending else FIRST.id)
    if after is None and options["skip"] and table_name == "Submissions":
        query = query.offset(options["skip"])
    maker = RowMaker(tree, wkt=options["wkt"], expand=options["expand"])
    names = _names(organisation)
    settings = current_app.extensions["formserver.settings"]
    context = _service_root(organisation, xml_form_id) + f"/$metadata#{table_name}"
    link_base = f"{_service_root(organisation, xml_form_id)}/{table_name}"
    top, table = options["top"], known[table_name]

    def generate():
        head = b'{"@odata.context":' + orjson.dumps(context)
        if count is not None:
            head += b',"@odata.count":' + str(count).encode()
        parts, size = [head + b',"value":['], 0
        served, last, more = 0, None, False
        with reading_session(settings) as session:
            stream = stream_rows(session, query, 500)
            try:
                for values in stream:
                    row = FeedRow._make(values)
                    if top is not None and served >= top:  # a record after a full page: there is more
                        more = True
                        break
                    key = record_key(row.instance_id)
                    status = _sealed_status(row)
                    produced = list(_rows(maker, table, key, {} if status else _answers(row, tree), row, names, status))
                    # A page holds whole records, at least one (its repeat rows may be more than $top) unless $top=0.
                    if top is not None and served + len(produced) > top and (served or not top):
                        more = True
                        break
                    for item in produced:
                        part = (b"," if served else b"") + orjson.dumps(_selected(item, options["select"]))
                        parts.append(part)
                        size += len(part)
                        served += 1
                    if size >= CHUNK:  # rows go out in chunks: one write per row costs the server more than the row
                        yield b"".join(parts)
                        parts, size = [], 0
                    last = key
            finally:
                stream.close()
        parts.append(b"]")
        if more and last is not None:
            token = base64.urlsafe_b64encode(orjson.dumps({"instanceId": last})).decode()
            params = {k: v for k, v in request.args.items() if k not in ("$skiptoken", "$skip")}
            parts.append(b',"@odata.nextLink":' + orjson.dumps(f"{link_base}?{urlencode({**params, '$skiptoken': token})}"))
        parts.append(b"}")
        yield b"".join(parts)

    return Response(stream_with_context(generate()), content_type=ODATA_JSON)


FeedRow = namedtuple(
    "FeedRow",
    "data xml review_state updated_at attachments_expected instance_id submitted_at submitter_user_id "
    "submitter_app_user_id device_id version edits present files",
)


def _feed_query(form):
    """The rows of the feed (``FeedRow``), read through ``db.stream_rows``, and the query's edits column."""
    every = records(form)
    edits = every.selected_columns.edits
    # The XML and files only of a submission without a flattened copy: an encrypted one, or one whose copy is made again.
    xml, files = envelope_columns()
    query = every.with_only_columns(
        cast(Submission.data, Text), xml,
        Submission.review_state, Submission.received_at, Submission.attachments_expected, FIRST.instance_id,
        FIRST.received_at, FIRST.submitter_user_id, FIRST.submitter_app_user_id, FIRST.device_id, FormVersion.version,
        edits, PRESENT, files,
    ).join(FormVersion, FormVersion.id == Submission.form_version_id)
    return query, edits


def _answers(row: FeedRow, tree: dict) -> dict:
    """A record's flattened answers: its copy, or made again from its XML."""
    data = orjson.loads(row.data) if row.data is not None else None
    if type(data) is dict:
        return data
    return flatten(bytes(row.xml), tree) if row.xml is not None else {}


def _sealed_status(row: FeedRow) -> str | None:
    """Central's ``status`` of an encrypted submission, None for a plain one."""
    if row.xml is None:
        return None
    try:
        root = parse(bytes(row.xml))
    except UnsafeOrBadXml:
        return None
    if not is_encrypted(root):
        return None
    try:
        arrived = read_envelope(root).xml_file in stored_files(row.files)
    except BadEnvelope:
        arrived = True
    return "notDecrypted" if arrived else "missingEncryptedFormData"


def _rows(maker: RowMaker, table, key: str, data: dict, row, names: dict, status: str | None = None):
    """The rows of one record in ``table``; an encrypted one (``status``) has only its ``Submissions`` row."""
    if table.parent is None:
        submitter = submitter_id(row.submitter_user_id, row.submitter_app_user_id)
        edits = row.edits
        system = {
            "submissionDate": json.iso(row.submitted_at),
            "updatedAt": json.iso(row.updated_at) if edits else None,
            "submitterId": str(submitter) if submitter is not None else None,
            "submitterName": names.get(submitter),
            "attachmentsPresent": row.present,
            "attachmentsExpected": row.attachments_expected,
            "status": status,
            "reviewState": central.review_state(row.review_state, edits),
            "deviceId": row.device_id,
            "edits": edits,
            "formVersion": row.version,
        }
        yield {"__id": key, "__system": system} if status else maker.submission(key, data, system)
    elif status is None:
        for _rid, item in maker.repeat_rows(table, key, data):
            yield item


def _selected(item: dict, select_paths: list[str] | None) -> dict:
    if not select_paths:
        return item
    out: dict = {}
    for path in select_paths:
        source, target, parts = item, out, path.split("/")
        for part in parts[:-1]:
            source = source.get(part) if isinstance(source, dict) else None
            target = target.setdefault(part, {})
        if isinstance(source, dict) and parts[-1] in source:
            target[parts[-1]] = source[parts[-1]]
    return out


def _names(organisation: Organisation) -> dict:
    """Submitter id -> name: device accounts of the organisation and people (by e-mail)."""
    session = request_session()
    apps = session.execute(select(AppUser.id, AppUser.name).where(AppUser.organisation_id == organisation.id)).all()
    people = session.execute(select(User.id, User.email)).all()
    return {**{submitter_id(None, i): n for i, n in apps}, **{i: e for i, e in people}}


def _after(form, token: str | None) -> int | None:
    """The record a ``$skiptoken`` names, as the id of its first version."""
    if token is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(token.encode()))["instanceId"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(400.8, field="$skiptoken", detail=token) from None
    found = request_session().scalar(
        select(Submission.id).where(
            Submission.form_id == form.id, Submission.root_id.is_(None),
            (Submission.instance_id == key) | Submission.instance_id.startswith(key + SUPERSEDED, autoescape=True),
        )
    )
    if found is None:
        raise ApiError(400.8, field="$skiptoken", detail=token)
    return found


def _options() -> dict:
    args = request.args
    unknown = [k for k in args if k.startswith("$") and k not in SUPPORTED]
    if unknown:
        raise ApiError(501.1, feature=unknown[0])
    expand = args.get("$expand")
    if expand not in (None, "*"):
        raise ApiError(501.1, feature=f"$expand={expand}")
    orderby = (args.get("$orderby") or "").split()
    if orderby and (orderby[0] != "__system/submissionDate" or orderby[1:] not in ([], ["asc"], ["desc"])):
        raise ApiError(501.1, feature=f"$orderby={args.get('$orderby')}")
    select_text = args.get("$select")
    return {
        "top": _count(args.get("$top"), "$top"),
        "skip": _count(args.get("$skip"), "$skip"),
        "count": args.get("$count") == "true",
        "wkt": args.get("$wkt") == "true",
        "expand": expand == "*",
        "descending": orderby[1:] == ["desc"],
        "filter": args.get("$filter") or None,
        "select": [p.strip() for p in select_text.split(",")] if select_text else None,
        "skiptoken": args.get("$skiptoken"),
    }


def _count(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400.8, field=name, detail=value)
    return int(value)
