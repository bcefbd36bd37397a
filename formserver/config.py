"""The one settings object, read from ``FORMSERVER_*`` environment variables.

Defaults give the embedded set-up: an SQLite file and a data folder under
``instance/``. Everything a worker needs to agree on with its siblings (the
secret key above all) lives in the data folder, so that every worker and every
restart share it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    public_url: str = "http://127.0.0.1:5000"
    behind_proxy: bool = False
    validate_with_java: bool = True
    accept_content_length: int = 100_000_000
    xlsform_max_uncompressed_mb: int = 50
    xlsform_max_rows: int = 10_000
    upload_idle_seconds: int = 60
    digest_realm: str = "formserver"
    session_idle_minutes: int = 120
    export_keep_hours: int = 72
    time_zone: str = "Asia/Bangkok"
    default_organisation: str = "default"
    default_organisation_name: str = "Default organisation"
    admin_email: str = "admin@example.org"
    admin_password: str | None = field(default=None, repr=False)
    network_min_count: int = 5  # k: the smallest count the network's figures show (network/suppression.py)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def export_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def spool_dir(self) -> Path:
        """Request bodies being received, before a thread takes them (anonymous files: nothing stays)."""
        return self.data_dir / "spool"

    @property
    def java_available(self) -> bool:
        return self.validate_with_java and shutil.which("java") is not None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("FORMSERVER_DATA_DIR") or "instance").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = env.get("FORMSERVER_DATABASE_URL") or f"sqlite:///{data_dir / 'formserver.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("FORMSERVER_SECRET_KEY") or _stored_secret_key(data_dir),
            public_url=(env.get("FORMSERVER_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
            behind_proxy=_flag(env.get("FORMSERVER_BEHIND_PROXY"), False),
            validate_with_java=_flag(env.get("FORMSERVER_VALIDATE_WITH_JAVA"), True),
            accept_content_length=int(env.get("FORMSERVER_ACCEPT_CONTENT_LENGTH") or 100_000_000),
            xlsform_max_uncompressed_mb=int(env.get("FORMSERVER_XLSFORM_MAX_UNCOMPRESSED_MB") or 50),
            xlsform_max_rows=int(env.get("FORMSERVER_XLSFORM_MAX_ROWS") or 10_000),
            upload_idle_seconds=int(env.get("FORMSERVER_UPLOAD_IDLE_SECONDS") or 60),
            digest_realm=env.get("FORMSERVER_DIGEST_REALM") or "formserver",
            session_idle_minutes=int(env.get("FORMSERVER_SESSION_IDLE_MINUTES") or 120),
            export_keep_hours=int(env.get("FORMSERVER_EXPORT_KEEP_HOURS") or 72),
            time_zone=env.get("FORMSERVER_TIME_ZONE") or "Asia/Bangkok",
            default_organisation=env.get("FORMSERVER_DEFAULT_ORGANISATION") or "default",
            default_organisation_name=env.get("FORMSERVER_DEFAULT_ORGANISATION_NAME") or "Default organisation",
            admin_email=env.get("FORMSERVER_ADMIN_EMAIL") or "admin@example.org",
            admin_password=env.get("FORMSERVER_ADMIN_PASSWORD") or None,
            network_min_count=max(1, int(env.get("FORMSERVER_NETWORK_MIN_COUNT") or 5)),
        )


def _stored_secret_key(data_dir: Path) -> str:
    """Generate the key once and keep it, readable by its owner only."""
    return stored_secret(data_dir / "secret_key", lambda: secrets.token_urlsafe(48), "delete it to generate a new secret key")


def stored_secret(path: Path, make, when_empty: str) -> str:
    """The text of a secret file, made by ``make()`` the first time, mode 0600.

    The file is created with O_EXCL so that two workers starting together
    cannot write two different secrets; the loser reads the winner's.
    ``when_empty`` says what to do with a file left empty.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text().strip()
            if text:
                return text
            time.sleep(0.05)
        raise RuntimeError(f"{path} is empty: {when_empty}")
    text = make()
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return text
