"""The installation's network key, and the keyed hash that is all the network keeps of an ID number.

The key is 32 random bytes in ``network.key`` in the data folder, made once (``O_EXCL``, mode
0600), and part of the backup: without it the hashes of stored facts cannot be matched with new
ones (``formserver network rebuild`` makes them anew with a new key). It is never the session
secret, so rotating that secret changes no hash. An ID number is kept as HMAC-SHA256(key, its 13
digits), its first 64 bits: anything that is not 13 digits once dashes and spaces are dropped matches no one and is
kept as no identity at all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from ..config import stored_secret

KEY_FILE = "network.key"
_NOT_DIGIT = re.compile(r"[^0-9]")
_KEYS: dict[Path, bytes] = {}


def installation_key(data_dir: Path) -> bytes:
    """The key of the installation whose data folder this is, made on first use."""
    path = (Path(data_dir) / KEY_FILE).resolve()
    key = _KEYS.get(path)
    if key is None:
        key = _KEYS[path] = _read_or_make(path)
    return key


def _read_or_make(path: Path) -> bytes:
    text = stored_secret(path, lambda: secrets.token_bytes(32).hex(),
                         "restore it from the backup, or delete it and run formserver network rebuild")
    return bytes.fromhex(text)


def identity_hash(key: bytes, value: str | None) -> int | None:
    """HMAC-SHA256 of the value's digits when they are exactly 13, else None (not matched); its first
    8 bytes as a signed 64-bit number, what the facts keep: a number sorts and matches several times
    faster than 64 characters of hex, and among a million people two different ID numbers share one
    by chance about once in 30 million networks."""
    digits = _NOT_DIGIT.sub("", value or "")
    if len(digits) != 13:
        return None
    digest = hmac.new(key, digits.encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
