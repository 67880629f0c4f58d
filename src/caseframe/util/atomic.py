"""Writing an output file so that it is either complete or absent: never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound


@contextmanager
def atomic_path(out: str | Path, *, private: bool = False) -> Iterator[Path]:
    """A temporary path beside `out` to write to; on success it replaces `out` in one step.

    The file gets the usual rights (0666 less the umask) unless `private` (0600, for key files).
    On any error the temporary file is removed and `out` is left as it was.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise NotFound(f"folder {out.parent} does not exist", hint="create it or choose another")
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder", hint="give a file name")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write in the output folder ({exc.strerror})", where=str(out.parent)
        ) from None
    tmp = Path(name)
    try:
        yield tmp
        if not private:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes the file private
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        raise InvalidInput(f"cannot write the file ({exc.strerror})", where=str(out)) from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(
    out: str | Path, data: bytes | str | Callable[[Path], None], *, private: bool = False
) -> Path:
    """Write bytes, text (UTF-8) or whatever `data(tmp_path)` writes to `out`, atomically."""
    out = Path(out)
    with atomic_path(out, private=private) as tmp:
        if callable(data):
            data(tmp)
        elif isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return out
