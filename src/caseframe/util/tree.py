"""Trees given as parent links (the case tree, the code tree, REFI code hierarchies).

One iterative walker for all of them, so a deep tree cannot exhaust Python's recursion limit and
a cycle is reported instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class CycleError(ValueError):
    """The parent links loop; `.node` is a node on the loop."""

    def __init__(self, node: Hashable):
        super().__init__(f"cycle through {node!r}")
        self.node = node


def children_of(parent_of: Mapping[K, K | None]) -> dict[K | None, list[K]]:
    """Children per parent (None: the roots), in the mapping's order."""
    children: dict[K | None, list[K]] = {}
    for node, parent in parent_of.items():
        children.setdefault(parent, []).append(node)
    return children


def ancestors(node: K, parent_of: Mapping[K, K | None]) -> list[K]:
    """The node's parent, grandparent, ... up to a root; CycleError if the chain loops."""
    chain: list[K] = []
    seen = {node}
    parent = parent_of.get(node)
    while parent is not None:
        if parent in seen:
            raise CycleError(parent)
        seen.add(parent)
        chain.append(parent)
        parent = parent_of.get(parent)
    return chain


def would_cycle(node: K, new_parent: K | None, parent_of: Mapping[K, K | None]) -> bool:
    """Whether making `new_parent` the parent of `node` would put `node` below itself."""
    if new_parent is None:
        return False
    return new_parent == node or node in ancestors(new_parent, parent_of)


def walk(
    roots: Iterable[K],
    children: Callable[[K], Iterable[K]] | Mapping[K | None, list[K]],
    *,
    max_depth: int | None = None,
) -> Iterator[tuple[K, int]]:
    """Depth-first, pre-order (node, depth) pairs; depth 0 for the roots.

    A node met twice means a cycle (or a shared child) and raises CycleError; a node deeper than
    `max_depth` raises ValueError naming the depth, so callers can refuse hostile input.
    """
    get = children.get if isinstance(children, Mapping) else children
    seen: set[K] = set()
    stack: list[tuple[K, int]] = [(r, 0) for r in reversed(list(roots))]
    while stack:
        node, depth = stack.pop()
        if node in seen:
            raise CycleError(node)
        if max_depth is not None and depth > max_depth:
            raise ValueError(f"nesting deeper than {max_depth} levels")
        seen.add(node)
        yield node, depth
        kids = get(node) or ()
        stack.extend((k, depth + 1) for k in reversed(list(kids)))


def descendants(node: K, children: Callable[[K], Iterable[K]] | Mapping[K | None, list[K]]):
    """All nodes below `node` (not `node` itself), depth-first."""
    return [n for n, depth in walk([node], children) if depth > 0]
