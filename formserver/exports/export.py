"""One export of a form: its submissions as an Excel workbook or a zip of CSV files.

``run_export`` reads the flattened copies of the submissions (``Submission.data``)
in one streamed pass, in the order they were received, and writes every table
as it goes: a submission's main row, then its repeat entries' rows in their own
tables (the writers keep all tables open; the first streams into the file, the
others are deflated into temporary files that are copied in at the end).
Nothing of the export is held in memory but the current rows.

Tables: one main row per submission (the current version of an edited record),
one row per repeat entry in the repeat's table, nested repeats included. Keys in
both conventions: ODK Central's ``KEY``/``PARENT_KEY`` (``uuid:…`` and
``uuid:…/intake/member[2]``) and KoboToolbox's ``_index``/``_parent_index``/
``_parent_table_name``.

``layout="central"`` writes the zip of CSV files as ODK Central's API serves it
(``submissions.csv.zip``, which ruODK and scripts written for Central parse):
Central's metadata columns, a record keyed by its first instanceID, answers as
sent, ``<form id>-<repeat>.csv`` for repeats and attachments as ``media/<name>``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import AppUser, ExportJob, Form, FormVersion, Organisation, Submission, SubmissionAttachment, User, utcnow
from ..problems import Problem
from ..storage import BlobStore
from ..words import word_in
from .central_layout import CENTRAL_AFTER, CENTRAL_BEFORE, CENTRAL_REPEAT_AFTER, central_values, first_versions, name_as_central
from .columns import Column, Meta, Table, TableLayout, build_schema, match_language, words_language
from .csvzip import CsvZip
from .decrypting import (
    NOT_DECRYPTED, NOT_DECRYPTED_HEADER, Decryptor, envelope_columns, form_is_encrypted, has_copy, sealed_count
)
from .flatten import RepeatsByVersion
from .sealed_edits import SealedEdits, join_sealed_edits
from .media import write_media
from .spool import Sealed
from .stored import READ_BATCH, stored_rows
from .spreadsheet import MAX_ROWS, Workbook
from .zipstream import ZipStream

FORMATS = ("xlsx", "csv")
HEADERS = ("both", "names", "labels")
VALUES = ("labels", "names")
LAYOUTS = ("formserver", "central")
# A submission is counted as exported once it is this old when the export reads:
# ingest sets received_at a moment before its transaction commits.
SETTLE = dt.timedelta(seconds=10)
ROWS_PER_SHEET = MAX_ROWS  # a table longer than this continues on a numbered sheet ("member (2)")
PROGRESS_EVERY = 500


# -- options ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how; ``from_dict`` reads the options of a job or a form."""

    format: str = "xlsx"
    lang: str | None = None  # "th", "en" or a language name of the form; None: the form's default
    header: str = "both"  # both rows, field names only, or labels only
    values: str = "labels"  # choices as labels in the language, or as their names
    since: str | None = None  # received on or after (a date, or a date and time; org time zone if none given)
    until: str | None = None  # received on or before (a date includes that whole day)
    new_only: bool = False  # only what arrived since the requester's last complete export of this form
    media: bool = False  # a zip of the export plus media/ with the attachments
    bom: bool = True  # CSV files start with a UTF-8 byte order mark (Excel needs it for Thai)
    version: str | None = None  # one form version; None: all versions
    layout: str = "formserver"  # or "central": ODK Central's columns and answers as sent (CSV only)
    split_selects: bool = True  # a 0/1 column per choice of a select_multiple
    group_paths: bool = True  # column names with their groups ("household-members"), else the field's name

    @classmethod
    def from_dict(cls, options: dict | None) -> "ExportOptions":
        options = dict(options or {})
        if "language" in options and "lang" not in options:
            options["lang"] = options.pop("language")
        options.pop("language", None)
        known = set(cls.__dataclass_fields__)
        for key in options:
            if key not in known:
                raise Problem("export.bad_option", option=key, value=options[key])
        values = {key: value for key, value in options.items() if value is not None and value != ""}
        for key in ("new_only", "media", "bom", "split_selects", "group_paths"):
            if key in values:
                values[key] = _flag(key, values[key])
        result = cls(**values)
        _check_choice("format", result.format, FORMATS)
        _check_choice("header", result.header, HEADERS)
        _check_choice("values", result.values, VALUES)
        _check_choice("layout", result.layout, LAYOUTS)
        if result.layout == "central" and result.format != "csv":
            raise Problem("export.bad_option", option="layout", value=f"central with {result.format}")
        for key in ("since", "until"):
            raw = getattr(result, key)
            if raw is not None:
                try:
                    _parse_moment(str(raw))
                except ValueError:
                    raise Problem("export.bad_option", option=key, value=raw) from None
        if result.lang is not None and not isinstance(result.lang, str):
            raise Problem("export.bad_option", option="lang", value=result.lang)
        return result

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def suffix(self) -> str:
        if self.media:
            return ".zip"
        return ".xlsx" if self.format == "xlsx" else ".csv.zip"


def _flag(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise Problem("export.bad_option", option=key, value=value)


def _check_choice(key: str, value, allowed) -> None:
    if value not in allowed:
        raise Problem("export.bad_option", option=key, value=value)


def _parse_moment(text: str) -> dt.date | dt.datetime:
    text = text.strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def received_bounds(options: ExportOptions, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(from, before): received_at >= from and < before, in UTC; a date means that day in ``zone``."""

    def moment(raw: str, end: bool) -> dt.datetime:
        value = _parse_moment(raw)
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return value + (dt.timedelta(microseconds=1) if end else dt.timedelta())
        day = value + dt.timedelta(days=1) if end else value
        return dt.datetime.combine(day, dt.time(), tzinfo=zone)

    since = moment(options.since, False) if options.since else None
    until = moment(options.until, True) if options.until else None
    return (
        since.astimezone(dt.timezone.utc) if since else None,
        until.astimezone(dt.timezone.utc) if until else None,
    )


def time_zone_of(organisation: Organisation, settings: Settings | None = None) -> tuple[ZoneInfo, str]:
    for name in (organisation.time_zone, settings.time_zone if settings else None, "Asia/Bangkok"):
        if name:
            try:
                return ZoneInfo(name), name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC"), "UTC"


# -- what a run tells --------------------------------------------------------------------


@dataclass
class ExportResult:
    submissions: int = 0
    tables: dict[str, int] = field(default_factory=dict)  # table name -> data rows
    media_files: int = 0
    snapshot_at: dt.datetime | None = None
    watermark: dt.datetime | None = None  # "new since this export" starts here
    not_decrypted: int = 0  # encrypted submissions listed on the sheet "not decrypted" instead


Progress = Callable[[int, int], None]


# The columns formserver adds: values given to the row functions in this order.
MAIN_BEFORE = (Meta("SubmissionDate", "received", width=19),)
MAIN_AFTER = (
    Meta("KEY", width=20),
    Meta("SubmitterName", width=16),
    Meta("AttachmentsPresent", "number"),
    Meta("AttachmentsExpected", "number"),
    Meta("ReviewState"),
    Meta("DeviceID", width=16),
    Meta("Edits", "number"),
    Meta("FormVersion"),
    Meta("_index", "number"),
)
REPEAT_AFTER = (
    Meta("PARENT_KEY", width=20),
    Meta("KEY", width=24),
    Meta("_index", "number"),
    Meta("_parent_table_name"),
    Meta("_parent_index", "number"),
)


# -- the export ----------------------------------------------------------------------------


def export_versions(session: Session, form: Form, version: str | None) -> list[FormVersion]:
    """The versions whose fields the export shows, newest first.

    One version when asked; otherwise every published version and every version
    that has submissions (an abandoned draft adds no empty columns).
    """
    if version is not None:
        found = session.scalar(select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.version == version))
        if found is None:
            raise Problem("form.version_not_found", form_id=form.form_id, version=version)
        return [found]
    used = set(session.scalars(select(Submission.form_version_id).where(Submission.form_id == form.id).distinct()))
    versions = [
        v
        for v in session.scalars(select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.id.desc()))
        if v.published_at is not None or v.id in used
    ]
    if not versions:
        versions = list(
            session.scalars(select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.id.desc()))
        )
    return versions


def previous_watermark(session: Session, form: Form, user: User | None) -> dt.datetime | None:
    if user is None:
        return None
    return session.scalar(
        select(ExportJob.watermark)
        .where(
            ExportJob.form_id == form.id,
            ExportJob.requested_by_id == user.id,
            ExportJob.status == "complete",
            ExportJob.watermark.is_not(None),
        )
        .order_by(ExportJob.watermark.desc())
        .limit(1)
    )


class _Output:
    """The workbook or CSV zip being written, and the zip around it when media are included.

    With media, the attachments are written first (``media_zip()``), then the tables:
    an xlsx goes into the same zip as ``FORM.xlsx`` beside ``media/``; CSV files go
    into the CSV zip itself, beside ``media/``.
    """

    def __init__(self, target, options: ExportOptions, file_stem: str, spool_dir: Path | None):
        self.options = options
        self.file_stem = file_stem
        self.outer: ZipStream | None = None
        self._own_file = None
        if isinstance(target, (str, os.PathLike)):
            self._own_file = open(target, "wb")
            target = self._own_file
        self.spool_dir = spool_dir
        if options.format == "csv":
            self.book = CsvZip(target, bom=options.bom, spool_dir=spool_dir)
        elif options.media:
            # The workbook and photos are compressed already: stored as they are (deflate level 0).
            self.outer = ZipStream(target, compresslevel=0)
            self.book = None
        else:
            self.book = Workbook(target, spool_dir=spool_dir)

    def media_zip(self) -> ZipStream:
        """The zip that media/ entries go into; call before the first table."""
        if self.outer is not None:
            return self.outer
        return self.book.zip_stream

    def table(self, name: str, layout: TableLayout, header: str):
        """A table whose rows come from the layout's row function, compiled for this format."""
        header_rows = _header_rows(layout.columns, header, layout.zone_name)
        widths = [column.width for column in layout.columns]
        return self._add_table(name, header_rows, widths, ready=True)

    def plain_table(self, name: str, header: tuple[str, ...]):
        """A table of plain values (text, numbers) under one header row."""
        return self._add_table(name, [list(header)], [None] * len(header), ready=False)

    def _add_table(self, name: str, header_rows: list[list], widths: list, ready: bool):
        if self.book is None:
            self.outer.start_entry(f"{self.file_stem}.xlsx")
            self.book = Workbook(_EntryWriter(self.outer), spool_dir=self.spool_dir)
        if isinstance(self.book, Workbook):
            return self.book.add_table(
                name, header_rows, autofilter=True, column_widths=widths, max_rows=ROWS_PER_SHEET
            )
        return self.book.add_table(name, header_rows, ready=ready)

    def close(self) -> None:
        self.book.close()
        if self.outer is not None:
            self.outer.end_entry()
            self.outer.close()
        if self._own_file is not None:
            self._own_file.close()

    def abort(self) -> None:
        try:
            if self.book is not None:
                self.book.abort()
            if self.outer is not None:
                self.outer.abort()
        finally:
            if self._own_file is not None:
                self._own_file.close()


class _EntryWriter:
    """A file-like object writing into the open entry of a ZipStream."""

    def __init__(self, zip_stream: ZipStream):
        self.write = zip_stream.write

    def flush(self) -> None:
        pass


def run_export(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    form: Form,
    options: ExportOptions | dict,
    target,
    *,
    requested_by: User | None = None,
    progress: Progress | None = None,
    blobs: BlobStore | None = None,
    spool_dir: Path | None = None,
    file_stem: str | None = None,
    key: RSAPrivateKey | None = None,
    undecrypted: bool = False,
    where=None,
) -> ExportResult:
    """Write the export of ``form`` to ``target`` (a path or a binary file object).

    ``session`` only reads (use ``db.reading_session`` for a consistent snapshot that
    does not block phones); the flattened copies must exist (``ensure_flattened``),
    a missing one is computed on the fly. ``progress(done, total)`` is called
    every few hundred submissions and between phases. ``where``: a condition on
    ``Submission`` that the exported submissions meet as well (an API's filter).

    An export of encrypted versions needs ``key`` (``decrypting.export_key``): each
    envelope is then decrypted in memory as it streams, and the writers' temporary
    files are sealed (``spool.Sealed``); ``target`` is the only place the answers go.
    ``undecrypted`` (Central's layout only): without a key, envelopes are rows of metadata
    whose Status is ``not decrypted``, as Central exports them without the passphrase.
    """
    if not isinstance(options, ExportOptions):
        options = ExportOptions.from_dict(options)
    if form.organisation_id != organisation.id:
        raise Problem("form.not_found", form_id=form.form_id)
    report = progress or (lambda done, total: None)
    zone, zone_name = time_zone_of(organisation, settings)
    versions = export_versions(session, form, options.version)
    encrypted = form_is_encrypted(versions)
    if key is None and not undecrypted and encrypted:
        raise Problem("export.key_needed", form_id=form.form_id)
    decrypting = key is not None or (undecrypted and encrypted)
    if decrypting:
        spool_dir = Sealed(spool_dir)
    newest_tree = versions[0].field_tree
    language = match_language(options.lang, newest_tree.get("languages", []), newest_tree.get("default_language"))
    words = words_language(options.lang, language)
    schema = build_schema([v.field_tree for v in versions], form.form_id, options.lang)
    central_layout = options.layout == "central"
    if central_layout:
        name_as_central(schema, form.form_id)
    layouts = _layouts(schema, options, words, zone, zone_name)
    result = ExportResult(snapshot_at=utcnow())
    since, until = received_bounds(options, zone)
    if options.new_only:
        if requested_by is None:
            raise Problem("export.bad_option", option="new_only", value="without a requesting user")
        last = previous_watermark(session, form, requested_by)
        if last is not None and (since is None or last > since):
            since = last
    result.watermark = result.snapshot_at - SETTLE
    if until is not None and until < result.watermark:
        result.watermark = until

    conditions = [
        Submission.organisation_id == organisation.id,
        Submission.form_id == form.id,
        Submission.is_current.is_(True),
    ]
    if options.version is not None:
        conditions.append(Submission.form_version_id == versions[0].id)
    if since is not None:
        conditions.append(Submission.received_at >= since)
    if until is not None:
        conditions.append(Submission.received_at < until)
    if where is not None:
        conditions.append(where)
    total = session.scalar(select(func.count()).select_from(Submission).where(*conditions)) or 0
    report(0, total)

    submitters = select(Submission.submitter_user_id).where(Submission.form_id == form.id).distinct()
    users = dict(session.execute(select(User.id, User.email).where(User.id.in_(submitters))).all()) if total else {}
    app_users = (
        dict(session.execute(select(AppUser.id, AppUser.name).where(AppUser.organisation_id == organisation.id)).all())
        if total
        else {}
    )
    version_names = dict(session.execute(select(FormVersion.id, FormVersion.version).where(FormVersion.form_id == form.id)).all())
    record = func.coalesce(Submission.root_id, Submission.id)
    edits = dict(
        session.execute(
            select(record, func.count()).where(Submission.form_id == form.id).group_by(record).having(func.count() > 1)
        ).all()
    )
    # Attachments received, counted through the index on submission_id (only this export's rows).
    present = (
        select(func.count())
        .where(SubmissionAttachment.submission_id == Submission.id)
        .correlate(Submission)
        .scalar_subquery()
    )
    query = (
        select(
            # The first three columns are stored_rows' own.
            Submission.id,
            Submission.form_version_id,
            # As text, decoded by stored._decoded: through the JSON type psycopg would hand json.loads bytes
            # (detect the encoding, decode, parse: 0.72 s for 20,000 households instead of 0.48 s).
            cast(Submission.data, Text),
            Submission.instance_id,
            Submission.received_at,
            Submission.submitter_user_id,
            Submission.submitter_app_user_id,
            Submission.device_id,
            Submission.review_state,
            Submission.attachments_expected,
            Submission.root_id,
            present,
            *(envelope_columns() if decrypting else ()),
        )
        .where(*conditions)
        .order_by(Submission.id)
    )

    stem = file_stem or form.form_id
    output = _Output(target, options, stem, spool_dir)
    main_layout = layouts[""]
    repeats = RepeatsByVersion(session)
    decryptor, sealed_rows = None, 0
    try:
        if decrypting:
            decryptor = Decryptor(
                key,
                blobs or BlobStore(settings.blob_dir),
                repeats,
                media_zip=output.media_zip() if options.media else None,
                failure_table=lambda: output.plain_table(NOT_DECRYPTED[options.format], NOT_DECRYPTED_HEADER),
                language=main_layout.language,
                zone=zone,
                version_names=version_names,
                central=central_layout,
            )
            sealed_rows = sealed_count(session, conditions)
            # the first pass reads every envelope of the form (join_sealed_edits): workers by their number
            decryptor.start_workers(sealed_count(session, [Submission.form_id == form.id]) if key is not None else 0)
        chains = join_sealed_edits(session, form, decryptor, edits) if key is not None else SealedEdits()
        if chains.replaced:  # versions an encrypted edit replaced, as if ingest had made them not current
            conditions.append(chains.not_replaced())  # the streamed query is not changed: chains.apply skips them
            total = session.scalar(select(func.count()).select_from(Submission).where(*conditions)) or 0
        if options.media:
            store = blobs or BlobStore(settings.blob_dir)
            plain = [*conditions, has_copy()] if decrypting else conditions
            result.media_files = write_media(
                session, output.media_zip(), store, plain, lambda: report(0, total), flat=central_layout
            )
        main_out = output.table(schema.name, main_layout, options.header)
        repeat_outs = {
            table.path: _RepeatOut(output, table, layouts[table.path], options.header)
            for table in schema.walk()
            if table.parent is not None
        }
        if central_layout:
            firsts = {**first_versions(session, form), **chains.firsts}
            values = central_values(users, app_users, edits, version_names, firsts, decryptor)
        else:
            review_words = (
                {state: word_in(state, main_layout.language) for state in ("received", "has_issues", "approved", "rejected")}
                if options.values == "labels"
                else {}
            )
            values = _formserver_values(users, app_users, edits, version_names, review_words)
        link_head, link_tail = _link_prefix(settings, organisation, options)
        main_row = main_layout.row
        children = schema.children
        write_main = main_out.write_row
        done = 0

        def write_children(table: Table, node: dict, key: str, index: int, link: str) -> None:
            """The rows of the repeat entries under ``node`` (and theirs, nested), written as they come."""
            for child in table.children:
                entries = node.get(child.key)
                if not entries or type(entries) is not list:
                    continue
                out = repeat_outs[child.path]
                write, row, parent_name, nested = out.write, out.row, out.parent_name, child.children
                for number, entry in enumerate(entries, start=1):
                    if type(entry) is not dict:
                        continue
                    out.count += 1
                    child_key = f"{key}/{child.key}[{number}]"
                    write(row(entry, link, key, child_key, out.count, parent_name, index))
                    if nested:
                        write_children(child, entry, child_key, out.count, link)

        for row, data in stored_rows(session, query, repeats, decryptor, sealed_rows, chains):
            if data is None:
                continue  # listed as not decrypted
            done += 1
            link = f"{link_head}{row[0]}{link_tail}"
            record_key, metadata = values(row, done)
            write_main(main_row(data, link, *metadata))
            if children:
                write_children(schema, data, record_key, done, link)
            if done % PROGRESS_EVERY == 0:
                report(done, total)
        result.submissions = done
        if decryptor is not None:
            result.not_decrypted = decryptor.failures
            result.media_files += decryptor.media_files
        result.tables[main_out.name] = done
        for out in repeat_outs.values():
            result.tables[out.name] = out.count
        output.close()
        report(done, total)
    except BaseException:
        output.abort()
        raise
    finally:
        if decryptor is not None:
            decryptor.close()
    return result


def _layouts(schema: Table, options: ExportOptions, words: str, zone: ZoneInfo, zone_name: str) -> dict[str, TableLayout]:
    """Each table's columns and row function, by the table's path."""
    central_layout = options.layout == "central"
    before, after, repeat_after = (
        (CENTRAL_BEFORE, CENTRAL_AFTER, CENTRAL_REPEAT_AFTER) if central_layout else (MAIN_BEFORE, MAIN_AFTER, REPEAT_AFTER)
    )
    return {
        table.path: TableLayout(
            table,
            values=options.values,
            words=words,
            time_zone=zone,
            zone_name=zone_name,
            before=before if table.parent is None else (),
            after=after if table.parent is None else repeat_after,
            csv=options.format == "csv",
            raw=central_layout,
            group_paths=options.group_paths,
            split_selects=options.split_selects,
        )
        for table in schema.walk()
    }


# What the main row function is given beside the answers: (the key its repeat rows hang from, the
# values of the metadata columns), from a row of run_export's query and the submission's number
# (Central's layout: central_layout.central_values). A decrypting export's rows carry two more columns (the envelope).


def _formserver_values(users: dict, app_users: dict, edits: dict, version_names: dict, review_words: dict):
    def values(row, done: int):
        submission_id, version_id, _copy, instance_id, received_at, user_id, app_user_id, device_id, review, expected, root_id, present = row[:12]
        return instance_id, (
            received_at,
            instance_id,
            users.get(user_id) if user_id else app_users.get(app_user_id),
            present or 0,
            expected,
            review_words.get(review, review),
            device_id,
            edits.get(root_id or submission_id, 1) - 1,
            version_names.get(version_id),
            done,
        )

    return values


class _RepeatOut:
    """The table of one repeat group being written, with what its rows need."""

    def __init__(self, output: "_Output", table: Table, layout: TableLayout, header: str):
        out = output.table(table.name, layout, header)
        self.name = out.name
        self.write = out.write_row
        self.row = layout.row
        self.parent_name = table.parent.name
        self.count = 0  # rows written: the next row's _index is count + 1


def _link_prefix(settings: Settings, organisation: Organisation, options: ExportOptions) -> tuple[str, str]:
    """Attachments are linked at ``<head><submission id><tail><name>``: the server, or media/ beside the file."""
    if options.media:
        return "media/", "/"
    return f"{settings.public_url}/orgs/{organisation.slug}/submissions/", "/attachments/"


def _header_rows(columns: list[Column], header: str, zone_name: str) -> list[list]:
    """Field names, labels, or both; with names only, the time zone is named after the date-time names."""
    names = [c.name for c in columns]
    labels = [c.label for c in columns]
    if header == "names":
        return [[f"{c.name} ({zone_name})" if c.zoned else c.name for c in columns]]
    if header == "labels":
        return [labels]
    return [names, labels]
