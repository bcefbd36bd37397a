"""The writers' temporary files (repeat tables, hyperlinks), plain or sealed.

A workbook's other sheets and a CSV zip's other tables wait in temporary files
until the first one has streamed (``ZipStream``), and a sheet's hyperlinks wait
until its rows end (``_LinkSpool``). When an export decrypts, those files hold
answers nobody may find on the disk afterwards, not even after a crash: the
export then gives ``Sealed(directory)`` as its spool place, and every
temporary file is AES-CTR encrypted under a key made for it alone and kept
only in memory. With a plain directory (or None), they are ordinary
temporary files, as before.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BUFFER = 1 << 16


@dataclass(frozen=True)
class Sealed:
    """Spool into ``directory`` (None: the system's), each file encrypted under a throwaway key."""

    directory: Path | None = None


def temporary_file(spool_dir, prefix: str):
    """A binary temporary file for a writer's spool, sealed when ``spool_dir`` is ``Sealed``."""
    if isinstance(spool_dir, Sealed):
        raw = _SealedFile(tempfile.TemporaryFile(dir=spool_dir.directory, prefix=prefix))
        return io.BufferedRandom(raw, BUFFER)
    return tempfile.TemporaryFile(dir=spool_dir, prefix=prefix)


class _SealedFile(io.RawIOBase):
    """A temporary file whose bytes on the disk are AES-256-CTR under a key that dies with it.

    CTR lets any position be read or written: the key stream at offset ``n`` is
    block ``n // 16`` of the counter, so seeking back to read what was written
    needs no other state.
    """

    def __init__(self, file):
        self._file = file
        self._key = os.urandom(32)
        self._nonce = int.from_bytes(os.urandom(16), "big")

    def _crypt(self, data: bytes, position: int) -> bytes:
        block, skip = divmod(position, 16)
        counter = ((self._nonce + block) % (1 << 128)).to_bytes(16, "big")
        cipher = Cipher(algorithms.AES(self._key), modes.CTR(counter)).encryptor()
        return cipher.update(bytes(skip) + bytes(data))[skip:]

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def write(self, data) -> int:
        self._file.write(self._crypt(data, self._file.tell()))
        return len(data)

    def readinto(self, buffer) -> int:
        position = self._file.tell()
        data = self._file.read(len(buffer))
        buffer[: len(data)] = self._crypt(data, position)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._key = b""
        super().close()
