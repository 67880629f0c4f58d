"""REFI-QDA 1.5 interoperability: .qdpx projects and .qdc codebooks (see docs/refi.md).

Store-independent: readers return a RefiProject / RefiCodebook plus a LossReport, writers take
them. Mapping to and from caseframe's store lives elsewhere.
"""

from caseframe.interop.refi.loss import LossEntry, LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    VARIABLE_TYPES,
    RefiCase,
    RefiCode,
    RefiCodebook,
    RefiCoding,
    RefiLink,
    RefiMedia,
    RefiNote,
    RefiProject,
    RefiSelection,
    RefiSet,
    RefiSource,
    RefiSyncPoint,
    RefiUser,
    RefiVariable,
    guid_key,
    new_guid,
    sort_targets,
)
from caseframe.interop.refi.read import normalise_source, read_qdc, read_qdpx
from caseframe.interop.refi.safety import DEFAULT_LIMITS, Limits
from caseframe.interop.refi.write import project_xml, write_qdc, write_qdpx

__all__ = [
    "DEFAULT_LIMITS",
    "PROJECT_TARGET",
    "VARIABLE_TYPES",
    "Limits",
    "LossEntry",
    "LossReport",
    "RefiCase",
    "RefiCode",
    "RefiCodebook",
    "RefiCoding",
    "RefiLink",
    "RefiMedia",
    "RefiNote",
    "RefiProject",
    "RefiSelection",
    "RefiSet",
    "RefiSource",
    "RefiSyncPoint",
    "RefiUser",
    "RefiVariable",
    "guid_key",
    "new_guid",
    "normalise_source",
    "project_xml",
    "read_qdc",
    "read_qdpx",
    "sort_targets",
    "write_qdc",
    "write_qdpx",
]
