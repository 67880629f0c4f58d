"""The one guard for zip archives caseframe reads (.qdpx, .qdc, .docx, .odt, .xlsx).

Nothing is ever extracted to disk: the entry table is checked first (entry count, names that
could escape a folder, duplicates, encryption, declared sizes, compression ratio, total size),
then entries are read into memory, never past their declared size. A hostile archive therefore
cannot write anywhere or inflate without bound.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from caseframe.errors import InvalidInput, NotFound

MiB = 1024 * 1024
GiB = 1024 * MiB

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    """Ceilings for one archive; the defaults suit real projects and stop zip bombs."""

    max_entries: int = 10_000
    max_total_bytes: int = 2 * GiB  # sum of uncompressed sizes
    max_entry_bytes: int = 2**31 - 1  # REFI-QDA 1.5 section 8.5
    max_ratio: float = 200.0  # uncompressed / compressed, checked for entries above ratio_from
    ratio_from: int = 1 * MiB
    max_xml_bytes: int = 512 * MiB


DEFAULT_LIMITS = Limits()
# Office documents (.docx, .odt, .xlsx) are text with some media; 512 MiB unpacked is plenty.
OFFICE_LIMITS = Limits(max_total_bytes=512 * MiB, max_entry_bytes=512 * MiB)


def check_entry_name(name: str, where: str | None = None) -> None:
    """Refuse names that could escape a folder if extracted (zip slip) or that are ambiguous."""
    if not name or "\x00" in name:
        raise InvalidInput(
            f"archive entry {name!r} has an empty or NUL-containing name", where=where
        )
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise InvalidInput(
            f"archive entry {name!r} has an absolute path",
            where=where,
            hint="an archive may only hold relative paths; the file is refused",
        )
    if ".." in posix.split("/"):
        raise InvalidInput(
            f"archive entry {name!r} climbs out of the archive with '..'",
            where=where,
            hint="the file is refused (zip slip)",
        )


class SafeArchive:
    """A zip archive whose entry table has been checked; read entries with `read`.

    `kind` names the format in messages ("a .qdpx file", "Word .docx"), so a user learns what
    the file should have been.
    """

    def __init__(
        self,
        source: str | Path | bytes,
        *,
        where: str,
        limits: Limits = DEFAULT_LIMITS,
        kind: str = "a .qdpx file",
        hint: str = "export the project again",
    ):
        self.where = where
        self.limits = limits
        self.hint = hint
        stream: BinaryIO
        if isinstance(source, bytes):
            stream = io.BytesIO(source)
            head = source[:4]
        else:
            path = Path(source)
            if not path.exists():
                raise NotFound(f"file {path} does not exist")
            if not path.is_file():
                raise InvalidInput(f"{path} is not a file")
            stream = path.open("rb")
            head = stream.read(4)
            stream.seek(0)
        try:
            self._zip = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            stream.close()
            if head.startswith(b"PK"):
                raise InvalidInput(
                    "the zip archive is truncated or damaged", where=where, hint=hint
                ) from exc
            raise InvalidInput(
                "not a zip archive", where=where, hint=f"{kind} is a zip archive"
            ) from exc
        try:
            self._check_table()
        except BaseException:
            self.close()
            raise
        self._by_name = {info.filename: info for info in self._zip.infolist()}
        self._by_folded = {name.replace("\\", "/").casefold(): name for name in self._by_name}

    def _check_table(self) -> None:
        infos = self._zip.infolist()
        lim = self.limits
        if len(infos) > lim.max_entries:
            raise InvalidInput(
                f"the archive has {len(infos)} entries, more than the limit of {lim.max_entries}",
                where=self.where,
            )
        seen: set[str] = set()
        total = 0
        for info in infos:
            check_entry_name(info.filename, self.where)
            folded = info.filename.replace("\\", "/").casefold()
            if folded in seen:
                raise InvalidInput(
                    f"the archive holds two entries named {info.filename!r}", where=self.where
                )
            seen.add(folded)
            if info.flag_bits & 0x1:
                raise InvalidInput(
                    f"archive entry {info.filename!r} is encrypted", where=self.where
                )
            if info.file_size > lim.max_entry_bytes:
                raise InvalidInput(
                    f"archive entry {info.filename!r} would unpack to {info.file_size} bytes, "
                    f"more than the limit of {lim.max_entry_bytes}",
                    where=self.where,
                )
            if info.file_size > lim.ratio_from:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > lim.max_ratio:
                    raise InvalidInput(
                        f"archive entry {info.filename!r} is compressed {ratio:.0f}:1, "
                        f"beyond the limit of {lim.max_ratio:.0f}:1 (zip bomb?)",
                        where=self.where,
                        hint="the file is refused",
                    )
            total += info.file_size
        if total > lim.max_total_bytes:
            raise InvalidInput(
                f"the archive would unpack to {total} bytes, more than the limit of "
                f"{lim.max_total_bytes} (zip bomb?)",
                where=self.where,
                hint="the file is refused",
            )

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def size(self, name: str) -> int:
        return self._by_name[name].file_size

    def find(self, path: str) -> str | None:
        """The entry name matching `path` ('/' separated), ignoring case; None when absent."""
        return self._by_folded.get(path.replace("\\", "/").lstrip("/").casefold())

    def read(self, name: str) -> bytes:
        """The bytes of one entry; never more than its declared size (checked in _check_table)."""
        info = self._by_name[name]
        try:
            with self._zip.open(info) as entry:
                data = entry.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise InvalidInput(
                f"archive entry {name!r} cannot be read: the archive is truncated or damaged",
                where=self.where,
                hint=self.hint,
            ) from exc
        if len(data) != info.file_size:
            raise InvalidInput(
                f"archive entry {name!r} does not match its declared size", where=self.where
            )
        return data

    def stream(self, name: str, block: int = MiB) -> Iterator[bytes]:
        """The bytes of one entry in blocks of `block` bytes (a recording need not fit in memory);
        never more than its declared size, and exactly that size or an error."""
        info = self._by_name[name]
        done = 0
        try:
            with self._zip.open(info) as entry:
                while data := entry.read(min(block, info.file_size - done + 1)):
                    done += len(data)
                    if done > info.file_size:
                        break
                    yield data
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise InvalidInput(
                f"archive entry {name!r} cannot be read: the archive is truncated or damaged",
                where=self.where,
                hint=self.hint,
            ) from exc
        if done != info.file_size:
            raise InvalidInput(
                f"archive entry {name!r} does not match its declared size", where=self.where
            )

    def close(self) -> None:
        fp = self._zip.fp
        self._zip.close()
        if fp is not None:
            fp.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_archive(
    source: str | Path | bytes,
    *,
    where: str,
    limits: Limits = DEFAULT_LIMITS,
    kind: str = "the file",
    hint: str = "save it again",
) -> None:
    """Refuse a hostile or damaged archive before a library (python-docx, odfpy, openpyxl)
    opens it; those libraries trust the entry table."""
    SafeArchive(source, where=where, limits=limits, kind=kind, hint=hint).close()
