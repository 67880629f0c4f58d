"""Deductive frameworks (SIS, CFIR 2.0, PSAT, or the user's own) read from YAML data files."""

from caseframe.frameworks.loader import (
    BUILTIN_KEYS,
    FrameworkSpec,
    LevelInfo,
    builtin_framework,
    builtin_framework_keys,
    builtin_framework_spec,
    builtin_frameworks,
    framework_to_dict,
    load_framework_file,
    load_framework_text,
    read_framework_file,
    read_framework_text,
    with_scale_anchors,
)

__all__ = [
    "BUILTIN_KEYS",
    "FrameworkSpec",
    "LevelInfo",
    "builtin_framework",
    "builtin_framework_keys",
    "builtin_framework_spec",
    "builtin_frameworks",
    "framework_to_dict",
    "load_framework_file",
    "load_framework_text",
    "read_framework_file",
    "read_framework_text",
    "with_scale_anchors",
]
