"""Built-in framework files and the framework loader/validator."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from caseframe.errors import InvalidInput, NotFound
from caseframe.frameworks import (
    builtin_framework,
    builtin_framework_keys,
    builtin_framework_spec,
    builtin_frameworks,
    framework_to_dict,
    load_framework_file,
    load_framework_text,
    with_scale_anchors,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "seed" / "grim-2022-managing-peer-support-workers.txt"
FACTS = SHARED / "frameworks" / "FACTS.md"


def _shared_file(path: Path) -> str:
    if not path.is_file():
        pytest.fail(
            f"reference file missing: {path} (the ../shared folder must sit next to the repo)"
        )
    return path.read_text(encoding="utf-8")


def _seed_table2() -> dict[str, list[str]]:
    """Column header -> component names, from the tab-separated Table 2 of the seed paper."""
    lines = _shared_file(SEED).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table 2."))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            if rows:
                break
            continue
        rows.append(line.split("\t"))
    header, body = rows[0], rows[1:]
    return {
        col: [r[i].strip() for r in body if i < len(r) and r[i].strip()]
        for i, col in enumerate(header)
    }


def _facts_cfir() -> dict[str, str]:
    """CFIR id -> name from the bullet list in FACTS.md."""
    text = _shared_file(FACTS)
    section = text[text.index("## 2. CFIR") : text.index("### CFIR construct rating scale")]
    return dict(re.findall(r"^\s*- ((?:INN|OS|IS|IN|IP)-[A-Z]\d?) (.+?)\s*$", section, re.M))


# ---------------------------------------------------------------- SIS


def test_sis_counts_and_maxima():
    fw = builtin_framework("sis")
    assert fw.builtin and fw.key == "sis"
    assert len(fw.components) == 24
    counts = {level: sum(c.level == level for c in fw.components) for level in fw.levels}
    assert counts == {"Organisational level": 12, "Team level": 7, "Continuous support": 5}
    assert fw.level_maxima == {
        "Organisational level": 36,
        "Team level": 21,
        "Continuous support": 15,
    }
    assert sum(fw.level_maxima.values()) == 72
    assert (fw.scale.minimum, fw.scale.maximum) == (0, 3)
    assert fw.scale.anchors == {
        0: "absent",
        1: "partly present",
        2: "largely present",
        3: "fully present",
    }
    assert "Markström" in fw.citation and "2018" in fw.citation
    ids = [c.key for c in fw.components]
    assert ids == [f"O{i}" for i in range(1, 13)] + [f"T{i}" for i in range(1, 8)] + [
        f"C{i}" for i in range(1, 6)
    ]


def test_sis_names_match_table2_of_seed_paper():
    table = _seed_table2()
    assert list(table) == ["Organizational Level", "Team Level", "Continuous Support"]
    fw = builtin_framework("sis")
    for column, level in zip(table, fw.levels, strict=True):
        names = [c.name for c in fw.components if c.level == level]
        assert names == table[column]


def test_sis_components_are_complete():
    raw = yaml.safe_load(
        resources.files("caseframe.frameworks").joinpath("sis.yaml").read_text("utf-8")
    )
    for entry in raw["components"]:  # keywords are given per language: both English and Swedish
        assert entry["keywords"]["en"] and entry["keywords"]["sv"], entry["id"]
    for c in builtin_framework("sis").components:
        assert len(c.definition) > 40, c.key
        assert 1 <= len(c.questions) <= 3, c.key
        assert all(q.endswith("?") for q in c.questions), c.key
        assert 1 <= len(c.examples) <= 3, c.key
        assert len(c.keywords) >= 6, c.key
        assert len(set(c.keywords)) == len(c.keywords), f"{c.key} repeats a keyword"
    o10 = builtin_framework("sis").component("o10")
    assert {"financial strategy", "funding", "budget", "finansiering", "medel"} <= set(o10.keywords)


# ---------------------------------------------------------------- CFIR 2.0 and PSAT


def test_cfir2_structure_matches_fact_sheet():
    fw = builtin_framework("CFIR2")
    assert fw.levels == (
        "Innovation",
        "Outer Setting",
        "Inner Setting",
        "Individuals",
        "Implementation Process",
    )
    constructs = [c for c in fw.components if c.kind == "construct"]
    subs = [c for c in fw.components if c.kind == "subconstruct"]
    assert (len(constructs), len(subs)) == (48, 19)
    facts = _facts_cfir()
    characteristics = {
        "IN-J": "Need",
        "IN-K": "Capability",
        "IN-L": "Opportunity",
        "IN-M": "Motivation",
    }
    assert len(facts) == 48 - 4 + 19
    assert {c.key: c.name for c in fw.components} == facts | characteristics
    per_level = {
        lv: sum(c.level == lv and c.kind == "construct" for c in fw.components) for lv in fw.levels
    }
    assert per_level == {
        "Innovation": 8,
        "Outer Setting": 7,
        "Inner Setting": 11,
        "Individuals": 13,
        "Implementation Process": 9,
    }
    for sub in subs:
        parent = fw.component(sub.parent_key)
        assert parent.kind == "construct" and parent.level == sub.level
        assert sub.key.startswith(parent.key)
    for c in fw.components:
        assert c.definition.startswith("The degree to which"), c.key
        assert 1 <= len(c.questions) <= 2 and c.keywords, c.key
    assert (fw.scale.minimum, fw.scale.maximum) == (-2, 2)
    spec = builtin_framework_spec("cfir2")
    assert {"X", "missing"} <= set(spec.special_ratings)


def test_psat_domains():
    fw = builtin_framework("psat")
    facts = _shared_file(FACTS)
    names = re.findall(r"^\s+\d\. ([A-Z][A-Za-z ]+?):", facts[facts.index("**PSAT") :], re.M)[:8]
    assert [c.name for c in fw.components] == names
    assert len(fw.components) == 8 and all(c.kind == "domain" for c in fw.components)
    assert (fw.scale.minimum, fw.scale.maximum) == (1, 7)
    for c in fw.components:
        assert c.definition and 1 <= len(c.questions) <= 2


# ---------------------------------------------------------------- lookup and JSON


def test_builtin_lookup():
    package_files = {
        p.name.removesuffix(".yaml")
        for p in resources.files("caseframe.frameworks").iterdir()
        if p.name.endswith(".yaml")
    }
    assert set(builtin_framework_keys()) == package_files == {"sis", "cfir2", "psat"}
    assert [fw.key for fw in builtin_frameworks()] == builtin_framework_keys()
    assert builtin_framework(" SIS ") is builtin_framework("sis")
    with pytest.raises(NotFound) as err:
        builtin_framework("cfir")
    assert "sis, cfir2, psat" in err.value.line()


def test_framework_to_dict_is_json_ready():
    data = json.loads(json.dumps(framework_to_dict(builtin_framework("sis"))))
    assert data["key"] == "sis" and data["total_max"] == 72
    assert [lv["max"] for lv in data["levels"]] == [36, 21, 15]
    first = data["components"][0]
    assert {"id", "name", "level", "definition", "questions"} <= set(first)
    assert first["id"] == "O1" and first["level"] == "Organisational level"
    assert data["scale"]["anchors"]["0"] == "absent"
    cfir = framework_to_dict(builtin_framework("cfir2"))
    assert cfir["total_max"] is None and "X" in cfir["scale"]["special"]
    assert next(c for c in cfir["components"] if c["id"] == "OS-G1")["parent"] == "OS-G"


def test_with_scale_anchors():
    fw = with_scale_anchors(builtin_framework("sis"), {3: "established", 0: "missing"})
    assert fw.scale.anchors == {0: "missing", 3: "established"}
    assert builtin_framework("sis").scale.anchors[3] == "fully present"  # cached original intact
    with pytest.raises(InvalidInput, match="outside the scale"):
        with_scale_anchors(fw, {4: "more"})


# ---------------------------------------------------------------- user files

VALID = """\
key: mine
name: My framework
scale: {min: 0, max: 2}
levels:
  - {name: Team, id: T, max: 4}
components:
  - id: A
    name: First
    level: T
    questions: ["Why?"]
  - id: B
    name: Second
    level: team
    parent: A
"""


def test_valid_user_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(VALID, encoding="utf-8")
    fw = load_framework_file(path)
    assert fw.key == "mine" and not fw.builtin
    assert fw.levels == ("Team",) and fw.level_maxima == {"Team": 4}
    assert [c.level for c in fw.components] == ["Team", "Team"]
    assert fw.component("b").parent_key == "A" and fw.component("A").questions == ("Why?",)


def test_levels_taken_from_components_when_absent():
    fw = load_framework_text(
        "key: k\nname: N\ncomponents:\n"
        "  - {id: NO, name: x, level: L2}\n  - {id: b, name: y, level: L1}\n",
        "inline",
    )
    assert fw.levels == ("L2", "L1") and fw.scale is None
    assert fw.components[0].key == "NO"  # not turned into the YAML 1.1 boolean


MALFORMED = [
    ("name: X\nkey: x\n", 1, "missing top-level key 'components'"),
    ("key: x\nname: X\ncomponents:\n  - name: A\n    level: L\n", 4, "has no 'id'"),
    ("key: x\nname: X\ncomponents:\n  - id: A\n    level: L\n", 4, "has no 'name'"),
    (
        "key: x\nname: X\ncomponents:\n"
        "  - {id: A, name: a, level: L}\n  - {id: a, name: b, level: L}\n",
        5,
        "duplicate component id 'a' (first on line 4)",
    ),
    (
        "key: x\nname: X\nlevels: [L]\ncomponents:\n  - id: A\n    name: a\n    level: M\n",
        7,
        "unknown level 'M'",
    ),
    (
        "key: x\nname: X\ncomponents:\n  - id: A\n    name: a\n    level: L\n    parent: Z\n",
        7,
        "names parent 'Z', which does not exist",
    ),
    ("key: x\nname: X\ncomponents:\n  - id: A\n    name: [a\n", 6, "YAML syntax error"),
    ("key: x\nname: X\n  bad: indent\ncomponents: []\n", 3, "YAML syntax error"),
    (
        "key: x\nname: X\nscale:\n  min: 3\n  max: 3\n"
        "components:\n  - {id: A, name: a, level: L}\n",
        5,
        "scale min (3) must be below scale max (3)",
    ),
    (
        "key: x\nname: X\nscale: {min: 0, max: 3}\nlevels:\n  - name: L\n    max: 36\n"
        "components:\n  - {id: A, name: a, level: L}\n",
        5,
        "but 1 component(s) × scale max 3 = 3",
    ),
    (
        "key: x\nname: X\nscale: {min: 0, max: 3}\nlevels:\n  - {name: L, max: 3}\ntotal_max: 4\n"
        "components:\n  - {id: A, name: a, level: L}\n",
        6,
        "total_max is 4",
    ),
    (
        "key: x\nname: X\ncomponents:\n  - id: A\n    name: a\n    level: L\n    defintion: typo\n",
        7,
        "unknown key 'defintion'",
    ),
    (
        "key: x\nname: X\ncomponents:\n  - {id: A, name: a, level: L, parent: B}\n"
        "  - {id: B, name: b, level: L, parent: A}\n",
        4,
        "parent cycle",
    ),
    ("key: x\nname: X\ncomponents:\n  - {id: 'A B', name: a, level: L}\n", 4, "component id 'A B'"),
    (
        "key: x\nname: X\ncomponents:\n  - {id: A, name: a, level: L, kind: theme}\n",
        4,
        "kind 'theme'",
    ),
    ("key: x\nname: X\ncomponents: {}\n", 3, "components must be a non-empty list"),
    ("# nothing here\n", 1, "the file is empty"),
]


@pytest.mark.parametrize(("text", "line", "problem"), MALFORMED)
def test_malformed_user_file_reports_line(tmp_path, text, line, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_framework_file(path)
    assert err.value.where == f"{path}:{line}"
    assert problem in err.value.message


def test_unreadable_inputs(tmp_path):
    with pytest.raises(NotFound):
        load_framework_file(tmp_path / "absent.yaml")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"key: x\nname: F\xf6rdel\n")
    with pytest.raises(InvalidInput) as err:
        load_framework_file(latin1)
    assert err.value.where == f"{latin1}:2" and "UTF-8" in err.value.message


def test_builtin_files_round_trip_through_user_loader(tmp_path):
    # the built-in files are ordinary framework files: the user path accepts them unchanged
    for key in builtin_framework_keys():
        text = resources.files("caseframe.frameworks").joinpath(f"{key}.yaml").read_text("utf-8")
        path = tmp_path / f"{key}.yaml"
        path.write_text(text, encoding="utf-8")
        user = load_framework_file(path)
        assert user.components == builtin_framework(key).components and not user.builtin


def test_examples_in_docs_load():
    docs = Path(__file__).resolve().parents[1] / "docs" / "frameworks.md"
    blocks = re.findall(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    full = load_framework_text(blocks[1], "docs")
    assert full.level_maxima == {"Organisation": 6, "Team": 3}
    assert full.component("R1").keywords == (
        "leadership",
        "manager",
        "support",
        "ledning",
        "chef",
        "stöd",
    )
    assert load_framework_text(blocks[0], "docs").components[0].questions


# ---------------------------------------------------------------- checks by the pydantic schema

MORE_MALFORMED = [
    (
        "key: x\nname: X\nscale: {min: a, max: 3}\ncomponents:\n  - {id: A, name: a, level: L}\n",
        3,
        "scale min must be a whole number",
    ),
    (
        "key: x\nname: X\nscale:\n  min: 0\n  max: 3\n  anchors:\n    0: none\n    5: too\n"
        "components:\n  - {id: A, name: a, level: L}\n",
        8,
        "scale anchor 5 lies outside 0..3",
    ),
    ("key: x\nname: X\nname: Y\ncomponents: []\n", 3, "has the key 'name' twice"),
    ("key: x\nname: [X]\ncomponents:\n  - {id: A, name: a, level: L}\n", 2, "must be text"),
    (
        "key: x\nname: X\ncomponents:\n  - id: A\n    name: a\n    level: L\n"
        "    questions:\n      - fine?\n      - [nested]\n",
        9,
        "an item of questions of component A must be text",
    ),
    ("key: x\nname: X\ncomponents:\n  - id: A\n    name:\n    level: L\n", 5, "is empty"),
    ("key: x\nname: X\nformat: 2\ncomponents: [{id: A, name: a, level: L}]\n", 3, "format"),
    (
        "key: x\nname: X\nscale: {min: 0, max: 3}\nlevels: [{name: A}, {name: B}]\ncomponents:\n"
        "  - {id: A, name: a, level: A, parent: B}\n  - {id: B, name: b, level: B}\n",
        6,
        "its parent B is in 'B'",
    ),
    ("- a\n- b\n", 1, "must be a mapping"),
]


@pytest.mark.parametrize(("text", "line", "problem"), MORE_MALFORMED)
def test_schema_problems_name_their_line(text, line, problem):
    with pytest.raises(InvalidInput) as err:
        load_framework_text(text, "mine.yaml")
    assert err.value.where == f"mine.yaml:{line}"
    assert problem in err.value.message


def test_own_keys_are_ignored_and_single_texts_are_lists():
    fw = load_framework_text(
        "key: x\nname: X\nx-note: mine\ncomponents:\n"
        "  - id: A\n    name: a\n    level: L\n    x-draft: true\n    questions: Why?\n",
        "inline",
    )
    assert fw.component("A").questions == ("Why?",)


def test_importing_the_frameworks_does_not_import_pydantic():
    import subprocess
    import sys

    code = (
        "import sys, caseframe.frameworks; "
        "assert 'pydantic' not in sys.modules, 'pydantic imported'; "
        "caseframe.frameworks.builtin_framework('psat'); "
        "assert 'pydantic' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
