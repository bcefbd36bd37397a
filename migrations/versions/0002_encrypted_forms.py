"""encrypted forms: a version's public key, a form's sealed private key, envelopes stored as plain repaired

Revision ID: 0002_encrypted_forms
Revises: 0001
Create Date: 2026-12-06

Before this revision an encrypted envelope was stored as a plain instance: a flattened copy
of nothing and no expected files. Those rows get no flattened copy and, as expected files,
the envelope's ``.enc`` files (media and the encrypted instance), as ingest now records them.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_encrypted_forms'
down_revision = '0001'
branch_labels = None
depends_on = None

_ENVELOPE_MARK = b"base64EncryptedKey"


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: a batch copy would drop ``form`` and, with foreign keys
    # on, cascade to its versions and submissions.
    op.add_column('form_version', sa.Column('public_key', sa.Text(), nullable=True))
    op.add_column('form', sa.Column('sealed_private_key', sa.LargeBinary(), nullable=True))
    op.add_column('form', sa.Column('key_hint', sa.Text(), nullable=True))
    _repair_stored_envelopes(op.get_bind())


def _repair_stored_envelopes(connection) -> None:
    """Envelopes received before ingest knew them: no flattened copy, their ``.enc`` files expected."""
    from formserver.encryption import BadEnvelope, is_encrypted, read_envelope
    from formserver.xml import UnsafeOrBadXml, parse

    submission = sa.table('submission', sa.column('id'), sa.column('xml'), sa.column('data'), sa.column('attachments_expected'))
    repaired = []
    rows = connection.execute(sa.select(submission.c.id, submission.c.xml).execution_options(stream_results=True))
    for submission_pk, xml in rows:
        if _ENVELOPE_MARK not in bytes(xml):
            continue
        try:
            root = parse(bytes(xml))
            if is_encrypted(root):
                repaired.append({"pk": submission_pk, "expected": len(read_envelope(root).parts)})
        except (UnsafeOrBadXml, BadEnvelope):
            continue
    if repaired:
        connection.execute(
            submission.update()
            .where(submission.c.id == sa.bindparam("pk"))
            .values(data=None, attachments_expected=sa.bindparam("expected")),
            repaired,
        )


def downgrade() -> None:
    op.drop_column('form', 'key_hint')
    op.drop_column('form', 'sealed_private_key')
    op.drop_column('form_version', 'public_key')
