"""Hardened access to untrusted zip archives and XML.

Nothing is ever extracted to disk: entries are read into memory after their names, count, sizes
and compression ratios have been checked, so a hostile archive cannot write anywhere. XML is
parsed with defusedxml with DOCTYPEs forbidden, which rules out external entities (XXE) and
entity expansion (billion laughs) in one rule; REFI files never need a DOCTYPE.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from caseframe.errors import InvalidInput, NotFound

MiB = 1024 * 1024
GiB = 1024 * MiB


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

_DRIVE = re.compile(r"^[A-Za-z]:")


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
            hint="a .qdpx may only hold relative paths; the file is refused",
        )
    if ".." in posix.split("/"):
        raise InvalidInput(
            f"archive entry {name!r} climbs out of the archive with '..'",
            where=where,
            hint="the file is refused (zip slip)",
        )


class SafeArchive:
    """A zip archive whose entry table has been checked; read entries with `read`."""

    def __init__(self, source: str | Path | bytes, *, where: str, limits: Limits = DEFAULT_LIMITS):
        self.where = where
        self.limits = limits
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
                    "the zip archive is truncated or damaged",
                    where=where,
                    hint="export the project again",
                ) from exc
            raise InvalidInput(
                "not a zip archive", where=where, hint="a .qdpx file is a zip archive"
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
                f"{lim.max_total_bytes}",
                where=self.where,
                hint="the file is refused (zip bomb?)",
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
                hint="export the project again",
            ) from exc
        if len(data) != info.file_size:
            raise InvalidInput(
                f"archive entry {name!r} does not match its declared size", where=self.where
            )
        return data

    def close(self) -> None:
        fp = self._zip.fp
        self._zip.close()
        if fp is not None:
            fp.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_xml(data: bytes, *, where: str, limits: Limits = DEFAULT_LIMITS) -> Element:
    """Parse untrusted XML: no DOCTYPE, no entities, no external references."""
    if len(data) > limits.max_xml_bytes:
        raise InvalidInput(
            f"the XML is {len(data)} bytes, more than the limit of {limits.max_xml_bytes}",
            where=where,
        )
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise InvalidInput(
            "the XML has a DOCTYPE, which is refused (it could define external or expanding "
            "entities)",
            where=where,
            hint="REFI-QDA files never need one",
        ) from exc
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise InvalidInput("the XML defines entities, which is refused", where=where) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        spot = f"{where}:{line}" if line else where
        raise InvalidInput(
            f"the XML cannot be parsed ({_parse_reason(exc)}, column {column})", where=spot
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(f"the XML cannot be parsed ({exc})", where=where) from exc


def _parse_reason(exc: ParseError) -> str:
    # expat messages end with ": line N, column M"; the location goes into `where` instead
    return str(exc).split(":")[0]
