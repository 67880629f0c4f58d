"""Speaker turns in transcript text.

A line opens a turn when, after optional indentation and an optional paragraph number
("12", "12.", "12)") or timestamp ("[00:01:02]", "(0:45)"), it starts with a label: a name of at
most 40 characters and 4 words that begins with a letter, optionally in Markdown bold, followed
by a colon and then a space, tab or the end of the line. Times ("10:30") and URLs ("http://")
fail the "colon then space" test.

A wrapped line of prose can look like a label ("example: we ..."), so a candidate name is kept
only when it is not on the stop list (Note, Date, Location, ...) and
  (a) it labels at least two lines of the text, or
  (b) it is a role name (Interviewer, Participant, therapist, client, I, R, IP, P1, ...), or
  (c) its line has the same kind of prefix (paragraph number or timestamp) as most of the
      names kept by (a) — this keeps a one-off or misspelt speaker in a numbered transcript, or
  (d) it is a near-miss spelling of a name kept by (a) ("Particpant" for "Participant"), or
  (e) no name labels two lines and the text has at least two different names (a short exchange).

A turn starts where its label starts (after any number or timestamp) and runs to the start of the
line of the next turn, or to the end of the text, minus trailing whitespace and minus a number
left alone after a blank line (a page or paragraph number that `pdftotext -layout` puts there at
page breaks).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from caseframe.model import SpeakerTurn

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 4

_LABEL = re.compile(
    r"""
    ^[ \t\f\v]*
    (?:(?P<number>\d{1,4}[.)]?)[ \t]+
      |(?P<time>[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?)[ \t]+)?
    (?P<label>
      (?:\*\*|__)?
      (?P<name>\[[^\]\n]{1,38}\]|[^\W\d_][\w .'’()&/\-]{0,39}?)  # [Manager A3]: pseudonyms
      (?:\*\*|__)?:(?:\*\*|__)?
    )
    (?=[ \t]|$)
    """,
    re.MULTILINE | re.VERBOSE,
)

_STOP = frozenset(
    """
    note notes nb ps obs date time place location duration length subject topic title
    transcript transcription interview source file re fwd from to cc tel phone email e-mail
    url web example examples e.g eg i.e ie see tip warning summary abstract background aim
    purpose method methods result results conclusion conclusions keywords comment comments
    datum tid plats anteckning anteckningar ämne längd källa sammanfattning exempel
    """.split()
)
_ROLES = frozenset(
    """
    interviewer interviewee respondent participant moderator facilitator researcher informant
    therapist client patient counsellor counselor doctor nurse clinician speaker
    intervjuare intervjuaren intervjuperson deltagare respondenten informanten
    """.split()
)
_STRAY_NUMBER = re.compile(r"\n[ \t\f\v]*\n\s*\d{1,4}\Z")
_ROLE_CODE = re.compile(r"[A-Z]{1,3}\d{0,3}")


@dataclass(frozen=True)
class _Candidate:
    line_start: int
    start: int
    name: str
    key: str
    prefix: str  # "number" | "time" | "bare"


def detect_turns(text: str) -> tuple[SpeakerTurn, ...]:
    """Speaker turns of `text` as code-point ranges (rules in the module docstring)."""
    candidates = [c for c in _candidates(text) if c.key not in _STOP]
    if not candidates:
        return ()
    counts = Counter(c.key for c in candidates)
    established = {key for key, n in counts.items() if n >= 2}
    prefix_kinds = Counter(c.prefix for c in candidates if c.key in established)
    usual_prefix = prefix_kinds.most_common(1)[0][0] if prefix_kinds else "bare"
    short_exchange = not established and len(counts) >= 2

    kept = [
        c
        for c in candidates
        if c.key in established
        or _is_role(c.name)
        or short_exchange
        or (usual_prefix != "bare" and c.prefix == usual_prefix)
        or _misspelt(c.key, established)
    ]
    turns = []
    for i, cand in enumerate(kept):
        limit = kept[i + 1].line_start if i + 1 < len(kept) else len(text)
        body = text[cand.start : limit].rstrip()
        while (stray := _STRAY_NUMBER.search(body)) is not None:
            body = body[: stray.start()].rstrip()
        end = cand.start + len(body)
        turns.append(SpeakerTurn(index=i, speaker=cand.name, start=cand.start, end=end))
    return tuple(turns)


def _candidates(text: str) -> list[_Candidate]:
    found = []
    for m in _LABEL.finditer(text):
        name = m.group("name").strip()
        if len(name) > MAX_LABEL_CHARS or len(name.split()) > MAX_LABEL_WORDS:
            continue
        prefix = "number" if m.group("number") else "time" if m.group("time") else "bare"
        found.append(
            _Candidate(
                line_start=m.start(),
                start=m.start("label"),
                name=name,
                key=name.casefold(),
                prefix=prefix,
            )
        )
    return found


def _misspelt(key: str, established: set[str]) -> bool:
    return any(SequenceMatcher(None, key, known).ratio() >= 0.85 for known in established)


def _is_role(name: str) -> bool:
    # A bracketed label is a pseudonym caseframe wrote ("[Manager A3]"): always a speaker.
    if name.startswith("[") and name.endswith("]"):
        return True
    return name.casefold() in _ROLES or _ROLE_CODE.fullmatch(name) is not None


def split_label(line: str) -> tuple[str, str] | None:
    """(name, rest) when `line` starts with a speaker label of the allowed shape, else None.

    Used for subtitle cues, where each cue is a line of its own and the recurrence rules of
    `detect_turns` do not apply; stop-list names still do not count.
    """
    m = _LABEL.match(line)
    if m is None:
        return None
    name = m.group("name").strip()
    if (
        len(name) > MAX_LABEL_CHARS
        or len(name.split()) > MAX_LABEL_WORDS
        or name.casefold() in _STOP
        or m.group("number")
        or m.group("time")
    ):
        return None
    return name, line[m.end() :].strip()
