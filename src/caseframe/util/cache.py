"""A small in-process cache for results that are costly to compute and cheap to check: each
entry is stored with the project's change stamp (store/queries/changes.py) and used only while
the stamp is unchanged, so a write anywhere makes every older entry unreachable."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

_MISSING = object()


class StampedCache:
    """Least recently used entries, each valid for one change stamp; thread-safe."""

    def __init__(self, size: int = 32):
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stamp: Hashable, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is _MISSING or entry[0] != stamp:
                return default
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, stamp: Hashable, key: Hashable, value: Any) -> Any:
        with self._lock:
            self._entries[key] = (stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
