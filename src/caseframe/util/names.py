"""Names users type (a framework, code, coder, document, attribute, method): the one check.

An unknown name is refused with the closest known names (difflib) and the command that lists
them all, so a typo never silently selects nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from caseframe.errors import NotFound


def closest(name: str, known: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to `n` known names most like `name` (case-insensitive), best first."""
    names = list(dict.fromkeys(known))
    by_lower: dict[str, str] = {}
    for k in names:
        by_lower.setdefault(k.lower(), k)
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=cutoff)
    # A name that starts the same way as what was typed is a likely intent too ("Debug" → ...)
    prefix = [k for k in names if k.lower().startswith(name.lower()) and name]
    out = [by_lower[h] for h in hits] + prefix
    return list(dict.fromkeys(out))[:n]


def unknown(kind: str, name: str, known: Iterable[str], list_hint: str | None = None) -> NotFound:
    """The error for an unknown name: "unknown code 'X'; did you mean 'Y'? (list: ...)"."""
    names = list(known)
    near = closest(name, names)
    if near:
        hint = "did you mean " + " or ".join(f"'{n}'" for n in near) + "?"
    elif not names:
        hint = f"there are no {kind}s yet"
    else:
        hint = ""
    if list_hint:
        hint = f"{hint} " if hint else ""
        hint += f"(list them all with '{list_hint}')"
    return NotFound(f"unknown {kind} '{name}'", hint=hint or None)


def check_choice(kind: str, value: str, allowed: Iterable[str]) -> str:
    """A value from a fixed set (a format, a method, a scope) or the unknown-name error."""
    options = list(allowed)
    if value in options:
        return value
    near = closest(value, options)
    guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
    raise NotFound(f"unknown {kind} '{value}'", hint=guess + "choose one of " + ", ".join(options))
