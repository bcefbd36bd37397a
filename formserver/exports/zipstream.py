"""A write-only zip archive that never seeks, for the export writers (xlsx and zipped CSV).

The zip container is written here, not by ``zipfile``: Excel is strict about
ZIP64 and rejects what ``zipfile`` writes with ``force_zip64=True`` when the
target cannot seek (sizes 0xFFFFFFFF in the local header with a ZIP64 extra
field).  ``ZipStream`` uses the layout known to open in Excel at any size:
version 4.5, sizes in a data descriptor, no extra field in the local header,
ZIP64 fields in the central directory only when a size needs them.
"""

from __future__ import annotations

import os
import queue as _queue
import struct
import threading
import time
import zlib

from .spool import temporary_file

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<IIQQ")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_ZIP64_END_RECORD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_VERSION = 45  # 4.5: ZIP64 may be needed; Excel insists on it in the local header
_FLAG_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_DEFLATED = 8
_U32 = 0xFFFFFFFF


class ZipStream:
    """A write-only zip archive that never seeks (any binary file object works).

    ``open_entry(name)`` returns a ``ZipEntry`` to ``write(bytes)`` to and
    ``close()``; several entries may be open at once, so that the sheets of a
    workbook can be written side by side.  The first entry opened while no
    other is streaming goes straight to the target; an entry opened while one
    streams is deflated into a temporary file (in ``spool_dir``) and copied
    to the target, already deflated, once no entry streams.  ``start_entry``,
    ``write`` and ``end_entry`` (or ``write_entry``) write one entry at a time.
    Every entry is deflated at ``compresslevel`` (1 by default, the fastest).

    With ``background=True`` a worker thread deflates and writes while the
    caller prepares the next data (zlib releases the GIL): the calls only
    queue their work, at most ``_QUEUED`` chunks, so memory stays bounded.
    An error of the worker (a closed connection, a full disk) is raised by
    the next call, and by ``close()`` at the latest.  ``close()`` and
    ``abort()`` wait for the worker to finish.
    """

    _QUEUED = 4

    def __init__(self, target, *, compresslevel: int = 1, background: bool = False, spool_dir=None):
        if isinstance(target, (str, os.PathLike)):
            self._fp = open(target, "wb")
            self._owns_fp = True
        else:
            self._fp = target
            self._owns_fp = False
        self._level = compresslevel
        self._spool_dir = spool_dir
        self._pos = 0
        self._entries: list[tuple] = []  # (name, flags, offset, crc, compressed, size) of written entries
        self._names: set[str] = set()
        self._open: list[ZipEntry] = []  # caller side: entries not closed yet
        self._current: ZipEntry | None = None  # the entry of start_entry / write / end_entry
        self._streaming: ZipEntry | None = None  # worker side: the entry writing to the target
        self._waiting: list[ZipEntry] = []  # worker side: closed spooled entries not copied yet
        self._spooled: list[ZipEntry] = []  # entries with a temporary file, closed by abort()
        self._closed = False
        now = time.localtime()
        year = min(max(now.tm_year, 1980), 2107)
        self._dos_time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
        self._dos_date = ((year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday
        self._error: BaseException | None = None
        self._queue = None
        if background:
            self._queue = _queue.Queue(self._QUEUED)
            self._worker = threading.Thread(target=self._work, name="zip-deflate", daemon=True)
            self._worker.start()

    # -- caller side ---------------------------------------------------------

    def _do(self, operation, *arguments) -> None:
        if self._error is not None:
            raise self._error
        if self._queue is None:
            operation(*arguments)
        else:
            self._queue.put((operation, arguments))

    def _work(self) -> None:
        while True:
            operation, arguments = self._queue.get()
            if operation is None:
                return
            if self._error is None:
                try:
                    operation(*arguments)
                except BaseException as error:  # raised again in the caller's thread
                    self._error = error

    def _wait(self) -> None:
        if self._queue is not None:
            self._queue.put((None, ()))
            self._worker.join()
            self._queue = None

    def open_entry(self, name: str) -> "ZipEntry":
        """Start the entry ``name``; other entries may stay open meanwhile."""
        if self._closed:
            raise ValueError("the zip archive is closed")
        if name in self._names:
            raise ValueError(f"duplicate zip entry {name!r}")
        self._names.add(name)
        try:
            encoded = name.encode("ascii")
            flags = _FLAG_DESCRIPTOR
        except UnicodeEncodeError:
            encoded = name.encode("utf-8")
            flags = _FLAG_DESCRIPTOR | _FLAG_UTF8
        entry = ZipEntry(self, encoded, flags)
        self._open.append(entry)
        self._do(entry._begin)
        return entry

    def start_entry(self, name: str) -> None:
        if self._current is not None:
            raise RuntimeError("another zip entry is still open")
        self._current = self.open_entry(name)

    def write(self, data: bytes) -> None:
        if self._current is None:
            raise RuntimeError("no zip entry is open")
        self._current.write(data)

    def end_entry(self) -> None:
        if self._current is None:
            raise RuntimeError("no zip entry is open")
        entry, self._current = self._current, None
        entry.close()

    def has_entry(self, name: str) -> bool:
        """Whether an entry of this name was started (a name may be used once)."""
        return name in self._names

    def write_entry(self, name: str, data: bytes) -> None:
        entry = self.open_entry(name)
        entry.write(data)
        entry.close()

    def close(self) -> None:
        """Close the entries still open and finish the archive; closes the target only if it was opened here."""
        if self._closed:
            return
        for entry in list(self._open):
            entry.close()
        self._current = None
        self._closed = True
        try:
            self._do(self._finish)
        finally:
            self._wait()
            if self._owns_fp:
                self._fp.close()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop without finishing the archive; closes the target only if opened here."""
        self._closed = True
        self._open = []
        self._current = None
        self._wait()
        for entry in self._spooled:
            entry._spool.close()
        if self._owns_fp:
            self._fp.close()

    # -- writing (in the worker when in the background) -----------------------

    def _out(self, data) -> None:
        written = self._fp.write(data)
        if written is not None and written < len(data):  # raw streams may write less
            view = memoryview(data)
            while written < len(data):
                more = self._fp.write(view[written:])
                if not more:
                    raise OSError("the target stopped accepting data")
                written += more
        self._pos += len(data)

    def _local_header(self, encoded: bytes, flags: int) -> None:
        self._out(
            _LOCAL_HEADER.pack(
                0x04034B50, _VERSION, flags, _DEFLATED, self._dos_time, self._dos_date,
                0, 0, 0, len(encoded), 0,
            )
            + encoded
        )

    def _record(self, entry: "ZipEntry", offset: int) -> None:
        """The data descriptor after an entry's data, and its central directory record."""
        self._out(_DESCRIPTOR.pack(0x08074B50, entry._crc, entry._compressed, entry._size))
        self._entries.append((entry._name, entry._flags, offset, entry._crc, entry._compressed, entry._size))

    def _copy_waiting(self) -> None:
        """Copy the closed spooled entries to the target (none may be streaming)."""
        for entry in self._waiting:
            offset = self._pos
            self._local_header(entry._name, entry._flags)
            spool = entry._spool
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                self._out(chunk)
            spool.close()
            self._spooled.remove(entry)
            self._record(entry, offset)
        self._waiting = []

    def _finish(self) -> None:
        self._copy_waiting()
        directory_offset = self._pos
        for encoded, flags, offset, crc, compressed, size in self._entries:
            extra = b""
            if size >= _U32:
                extra += struct.pack("<Q", size)
                size = _U32
            if compressed >= _U32:
                extra += struct.pack("<Q", compressed)
                compressed = _U32
            if offset >= _U32:
                extra += struct.pack("<Q", offset)
                offset = _U32
            if extra:
                extra = struct.pack("<HH", 1, len(extra)) + extra
            self._out(
                _CENTRAL_HEADER.pack(
                    0x02014B50, _VERSION, _VERSION, flags, _DEFLATED, self._dos_time,
                    self._dos_date, crc, compressed, size, len(encoded), len(extra),
                    0, 0, 0, 0, offset,
                )
                + encoded
                + extra
            )
        directory_size = self._pos - directory_offset
        count = len(self._entries)
        if count > 0xFFFF or directory_offset >= _U32 or directory_size >= _U32:
            zip64_end_offset = self._pos
            self._out(
                _ZIP64_END_RECORD.pack(
                    0x06064B50, 44, _VERSION, _VERSION, 0, 0, count, count,
                    directory_size, directory_offset,
                )
            )
            self._out(_ZIP64_LOCATOR.pack(0x07064B50, 0, zip64_end_offset, 1))
        self._out(
            _END_RECORD.pack(
                0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                min(directory_size, _U32), min(directory_offset, _U32), 0,
            )
        )
        if hasattr(self._fp, "flush"):
            self._fp.flush()


class ZipEntry:
    """One entry of a ``ZipStream`` being written: ``write(bytes)``, then ``close()``."""

    def __init__(self, archive: ZipStream, name: bytes, flags: int):
        self._archive = archive
        self._name = name
        self._flags = flags
        self._open = True
        # worker side
        self._spool = None  # the temporary file of an entry that waits for its turn
        self._offset = 0
        self._crc = 0
        self._size = 0
        self._compressed = 0
        self._compressor = None
        self._sink = None

    def write(self, data: bytes) -> None:
        if not self._open:
            raise RuntimeError("the zip entry is closed")
        self._archive._do(self._data, data)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._archive._open.remove(self)
            self._archive._do(self._end)

    # -- worker side ----------------------------------------------------------

    def _begin(self) -> None:
        archive = self._archive
        self._compressor = zlib.compressobj(archive._level, zlib.DEFLATED, -15)
        if archive._streaming is None:
            archive._streaming = self
            self._offset = archive._pos
            archive._local_header(self._name, self._flags)
            self._sink = archive._out
        else:
            self._spool = temporary_file(archive._spool_dir, "zip-entry-")
            archive._spooled.append(self)
            self._sink = self._spool.write

    def _data(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        out = self._compressor.compress(data)
        if out:
            self._compressed += len(out)
            self._sink(out)

    def _end(self) -> None:
        out = self._compressor.flush()
        if out:
            self._compressed += len(out)
            self._sink(out)
        self._compressor = None
        archive = self._archive
        if archive._streaming is self:
            archive._record(self, self._offset)
            archive._streaming = None
        else:
            archive._waiting.append(self)
        if archive._streaming is None:
            archive._copy_waiting()
