"""Which meaning units a method should read, and what text it reads in each.

A suggestion on a heading ("Published quotes of Manager B10"), on an interviewer's question or on
a one-word back-channel ("Yes.") wastes a coder's time, and a speaker label ("Chef:", "[Manager
A3]:") is not something the speaker said: in a transcript where every manager turn starts with
"Chef:" the label alone made "Leaders engagement" look likely. So:

* speaker labels are blanked out of the text a method reads (replaced by spaces of the same
  length, so character offsets inside the unit stay valid for highlighting reasons);
* by default a unit is skipped when it is a heading, an interviewer's turn (when speakers are
  known), or shorter than `min_words` words once its label is gone; each skip has a reason.

Units a coded-segment dataset brought (scheme ``imported``) were cut by a person to be coded, so
only empty ones are skipped there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from caseframe.suggest.text import words

# Speaker names that mark the person asking the questions (English and Swedish), compared in
# lower case without brackets or digits; "I" and "Q" are the usual short forms.
INTERVIEWER_NAMES = frozenset(
    """
    interviewer interviewers int i q question moderator facilitator researcher
    intervjuare intervjuaren intervjuarna forskare forskaren moderatorn samtalsledare
    """.split()
)
SKIP_REASONS = ("heading", "interviewer", "short")

_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_NAME_NOISE = re.compile(r"[\[\]*_\d().:]+")


@dataclass(frozen=True)
class UnitRules:
    """What `select_units` skips. Every rule can be turned off; `min_words=0` keeps short units."""

    skip_headings: bool = True
    skip_interviewer: bool = True
    min_words: int = 3
    heading_max_words: int = 15


def speaker_key(name: str | None) -> str:
    """A speaker name compared loosely: lower case, no brackets, digits or bold markers."""
    return " ".join(_NAME_NOISE.sub(" ", (name or "").casefold()).split())


def is_interviewer(speaker: str | None) -> bool:
    key = speaker_key(speaker)
    return bool(key) and (key in INTERVIEWER_NAMES or key.split()[0] in INTERVIEWER_NAMES)


def is_heading(text: str, max_words: int = 15) -> bool:
    """A title line: a Markdown heading, or one short line that does not end a sentence
    (no full stop, question or exclamation mark), e.g. "Published quotes of Manager B10 (…)"."""
    stripped = text.strip()
    if not stripped:
        return False
    if _MARKDOWN_HEADING.match(stripped):
        return True
    if "\n" in stripped or _SENTENCE_END.search(stripped):
        return False
    return len(words(stripped)) <= max_words


def label_pattern(speakers: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of these speaker labels at the start of a line, with an optional
    paragraph number or timestamp in front and Markdown bold around the name."""
    names = sorted({s.strip() for s in speakers if s and s.strip()}, key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(
        r"^[ \t]*(?:\d{1,4}[.)]?[ \t]+|[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?[ \t]+)?"
        rf"(?:\*\*|__)?(?:{alternatives})(?:\*\*|__)?:(?:\*\*|__)?(?=[ \t]|$)",
        re.MULTILINE | re.IGNORECASE,
    )


def blank_labels(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` with every speaker label replaced by spaces (same length, same offsets)."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


@dataclass
class UnitSelection:
    """The outcome of `select_units`: indices kept, the text to read for each unit, and why the
    others were skipped."""

    keep: list[int]
    texts: list[str]  # one per input unit, labels blanked (skipped units included)
    skipped: dict[str, int]  # reason -> count, reasons in SKIP_REASONS order
    reasons: dict[int, str]  # index of a skipped unit -> its reason


def select_units(
    texts: Sequence[str],
    speakers: Sequence[str | None],
    schemes: Sequence[str],
    rules: UnitRules | None = None,
    *,
    label_speakers: Iterable[str] = (),
    interviewers: Iterable[str] = (),
) -> UnitSelection:
    """Blank speaker labels and decide which units a method reads.

    `label_speakers`: every speaker name of the documents (their labels are blanked wherever
    they start a line); `interviewers`: further speaker names to treat as interviewers (e.g.
    learned by `silent_speakers`).
    """
    rules = rules or UnitRules()
    pattern = label_pattern([*label_speakers, *(s for s in speakers if s)])
    asking = {speaker_key(s) for s in interviewers}
    cleaned = [blank_labels(t, pattern) for t in texts]
    keep: list[int] = []
    reasons: dict[int, str] = {}
    for i, (text, speaker, scheme) in enumerate(zip(cleaned, speakers, schemes, strict=True)):
        reason = _skip_reason(text, speaker, scheme, rules, asking)
        if reason is None:
            keep.append(i)
        elif reason:
            reasons[i] = reason
    counts = Counter(reasons.values())
    return UnitSelection(
        keep=keep,
        texts=cleaned,
        skipped={r: counts[r] for r in SKIP_REASONS if counts[r]},
        reasons=reasons,
    )


def _skip_reason(
    text: str, speaker: str | None, scheme: str, rules: UnitRules, asking: set[str]
) -> str | None:
    """None to keep; "" for an empty unit (skipped without comment); else the reason."""
    if not text.strip():
        return ""
    if scheme == "imported":
        return None
    asks = speaker and (is_interviewer(speaker) or speaker_key(speaker) in asking)
    if rules.skip_interviewer and asks:
        return "interviewer"
    if rules.skip_headings and not speaker and is_heading(text, rules.heading_max_words):
        return "heading"
    if rules.min_words and len(words(text)) < rules.min_words:
        return "short"
    return None


def silent_speakers(
    speakers: Sequence[str | None], coded: Sequence[bool], min_turns: int = 10
) -> set[str]:
    """Speakers the project's coders never code: at least `min_turns` turns in coded documents,
    none of them coded, while other speakers' turns are. Their turns are treated like an
    interviewer's (the people asking, whatever their label says)."""
    turns: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for speaker, was_coded in zip(speakers, coded, strict=True):
        if speaker:
            key = speaker_key(speaker)
            turns[key] += 1
            hits[key] += bool(was_coded)
    if not any(hits.values()):
        return set()
    return {k for k, n in turns.items() if n >= min_turns and hits[k] == 0}


def describe_skipped(skipped: dict[str, int], rules: UnitRules) -> str:
    """'18 headings, 4 interviewer turns, 12 units under 3 words' (empty when nothing)."""
    parts = []
    if skipped.get("heading"):
        parts.append(f"{skipped['heading']} heading{'s' * (skipped['heading'] != 1)}")
    if skipped.get("interviewer"):
        n = skipped["interviewer"]
        parts.append(f"{n} interviewer turn{'s' * (n != 1)}")
    if skipped.get("short"):
        n = skipped["short"]
        parts.append(f"{n} unit{'s' * (n != 1)} under {rules.min_words} words")
    return ", ".join(parts)
