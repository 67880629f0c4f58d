"""Planning the merge of a codebook (.qdc or spreadsheet) into the code tree; no I/O.

Codes are matched by GUID first, then by name under the same parent. A code matched by GUID
takes the file's name (renamed); a matched code takes the file's description and colour where
the file gives one (updated); codes are never moved or deleted. The API applies the plan with
caseframe.store.snapshot.apply_codebook in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.mapping_in import code_name
from caseframe.interop.refi.model import RefiCode, RefiCodebook, guid_key
from caseframe.interop.refi.values import refi_color


@dataclass
class CodebookChange:
    action: str  # added | renamed | updated | unchanged
    path: str  # the code's path after the merge
    guid: str
    parent: str | None  # parent GUID after the merge (for added codes)
    name: str
    old_name: str | None = None
    description: str | None = None
    color: str | None = None
    matched_by: str | None = None  # guid | name (for existing codes)


@dataclass
class CodebookPlan:
    changes: list[CodebookChange] = field(default_factory=list)
    report: LossReport = field(default_factory=LossReport)

    def of(self, action: str) -> list[CodebookChange]:
        return [c for c in self.changes if c.action == action]

    def counts(self) -> dict[str, int]:
        return {a: len(self.of(a)) for a in ("added", "renamed", "updated", "unchanged")}


def plan_codebook_merge(
    existing: list[dict], book: RefiCodebook, report: LossReport
) -> CodebookPlan:
    """What merging `book` into the code tree `existing` (rows with guid, name, parent,
    description, color) would do: match by GUID first, then by name under the same parent.

    A code matched by GUID takes the file's name (renamed); a matched code takes the file's
    description and colour where the file gives one (updated); codes are never moved or deleted.
    """
    plan = CodebookPlan(report=report)
    by_guid = {guid_key(r["guid"]): r for r in existing}
    children: dict[str | None, dict[str, dict]] = {}
    for r in existing:
        children.setdefault(r["parent"], {})[r["name"].casefold()] = r
    paths: dict[str, str] = {}

    def path_of(row_guid: str | None, name: str) -> str:
        return f"{paths[row_guid]}/{name}" if row_guid else name

    for r in existing:  # parents come first
        paths[r["guid"]] = path_of(r["parent"], r["name"])

    # depth-first, parents before children, iteratively (the reader bounds the depth)
    stack: list[tuple[RefiCode, str | None]] = [(c, None) for c in reversed(book.codes)]
    while stack:
        code, parent = stack.pop()
        g = guid_key(code.guid)
        name = code_name(code.name, report)
        row = by_guid.get(g)
        matched_by = "guid" if row else None
        if row is None:
            row = children.get(parent, {}).get(name.casefold())
            matched_by = "name" if row else None
        if row is None:
            change = CodebookChange(
                "added",
                path_of(parent, name),
                g,
                parent,
                name,
                description=code.description,
                color=refi_color(code.color),
            )
            paths[g] = change.path
            children.setdefault(parent, {})[name.casefold()] = {
                "guid": g,
                "name": name,
                "parent": parent,
            }
            plan.changes.append(change)
            stack.extend((child, g) for child in reversed(code.children))
            continue
        description = code.description if code.description not in (None, "") else None
        color = refi_color(code.color)
        new_desc = (
            description
            if description is not None and description != (row.get("description") or "")
            else None
        )
        new_color = (
            color
            if color is not None and color.lower() != (row.get("color") or "").lower()
            else None
        )
        rename = matched_by == "guid" and name != row["name"]
        if rename:
            sibling = children.get(row["parent"], {}).get(name.casefold())
            if sibling is not None and sibling["guid"] != row["guid"]:
                report.warn(
                    f"code {row['name']!r} renamed to {name!r} in the file",
                    "a sibling already has that name; the name was kept",
                )
                rename = False
        action = "renamed" if rename else "updated" if new_desc or new_color else "unchanged"
        final_name = name if rename else row["name"]
        paths[row["guid"]] = path_of(row["parent"], final_name)
        plan.changes.append(
            CodebookChange(
                action,
                paths[row["guid"]],
                row["guid"],
                row["parent"],
                final_name,
                old_name=row["name"] if rename else None,
                description=new_desc,
                color=new_color,
                matched_by=matched_by,
            )
        )
        stack.extend((child, row["guid"]) for child in reversed(code.children))
    return plan
