"""The blob store for attachments and media: content addressed by sha256.

Files are streamed to a temporary name, fsynced and renamed into place, so a
crash never leaves a half-written blob under a real name. A client's file name
is never used as a path.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

    @property
    def data_dir(self) -> Path:
        """The data folder the store lives in (``Settings.blob_dir`` is its ``blobs``), where the
        installation's other files are kept, such as the network key."""
        return self.root.parent

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> StoredBlob:
        """Store ``stream``; raise ``BlobTooLarge`` past ``limit`` bytes without keeping anything."""
        sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise BlobTooLarge(size)
                    sha.update(chunk)
                    md5.update(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            blob = StoredBlob(sha.hexdigest(), md5.hexdigest(), size)
            target = self.path(blob.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
            return blob
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_bytes(self, content: bytes) -> StoredBlob:
        return self.put_stream(io.BytesIO(content))

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


class BlobTooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(f"blob larger than the limit (at least {size} bytes)")
        self.size = size
