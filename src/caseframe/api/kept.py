"""Results kept per project until it changes: an analysis asked for again with the same
selection (a page reloaded, the next page of a list, a second page on the same figures) is
answered from memory while the project's change stamp (store/queries/changes.py) is the one it
was computed for."""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any

from caseframe.store.queries.changes import change_stamp
from caseframe.util.cache import StampedCache

_MISSING = object()


def kept(
    project: Any,
    key: Hashable,
    compute: Callable[[], Any],
    *,
    if_cached: bool = False,
    copy_out: bool = True,
) -> Any:
    """compute()'s result for `key`, computed at most once per change stamp; `if_cached`: the
    kept result or None, nothing computed. The stamp is read before computing, so a write
    made meanwhile leaves an entry that is never used. `copy_out`: hand out a deep copy (the
    caller may change it; the kept value must stay as computed)."""
    cache = project.__dict__.setdefault("_kept_results", StampedCache(size=32))
    with project.store.read() as conn:
        stamp = change_stamp(conn)
    found = cache.get(stamp, key, _MISSING)
    if found is _MISSING:
        if if_cached:
            return None
        found = cache.put(stamp, key, compute())
    return copy.deepcopy(found) if copy_out else found
