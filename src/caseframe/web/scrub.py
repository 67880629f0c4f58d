"""Messages for the browser never name a folder on the server."""

from __future__ import annotations

import re
from typing import Any

# A path of two or more parts (`/tmp/x/y.txt`, `C:\\Users\\a\\b.txt`): only its last part
# is shown, so that no message names a folder on the server.
_SERVER_PATH = re.compile(
    r"(?:(?<![\w.])[A-Za-z]:[\\/]|(?<![\w.:/])~?/)"
    r"(?:[^\s'\"<>|:;,/\\]+[/\\])+([^\s'\"<>|:;,/\\]*)"
)


def without_paths(text: str) -> str:
    """The text with every server path cut down to its last part (a file's own name)."""
    return _SERVER_PATH.sub(lambda m: m.group(1) or "…", text)


def no_paths(value: Any) -> Any:
    """`without_paths` applied to every text inside a JSON-like value."""
    if isinstance(value, str):
        return without_paths(value)
    if isinstance(value, list):
        return [no_paths(v) for v in value]
    if isinstance(value, dict):
        return {k: no_paths(v) for k, v in value.items()}
    return value
